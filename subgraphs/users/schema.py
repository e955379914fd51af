"""GraphQL surface of the users subgraph: thin resolvers over UsersService."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from graphql.error import GraphQLError
from strawberry.scalars import JSON

from common.auth import Role as RoleValue
from common.errors import Forbidden
from common.graphql.access import scopes, signed_in
from common.graphql.cache_control.hints import PER_USER, PRIVATE_FIELD, PUBLIC_FEW_MINUTES
from common.graphql.ids import graphql_id, parse_id
from common.graphql.relay import PAGED, Connection
from common.graphql.schema import ServiceSchema
from subgraphs.users.api_key_schema import ApiKeyMutations, ApiKeyQueries
from subgraphs.users.audit import EventFilter
from subgraphs.users.audit import SecurityEventKind as SecurityEventKindValue
from subgraphs.users.data_export_schema import DataExport, DataExportMutations, data_exports_of
from subgraphs.users.external_accounts import LinkRequired
from subgraphs.users.external_sign_in_schema import (
    CompleteExternalSignInInput,
    ExternalSignInQueries,
    ExternalSignInStart,
    LinkedIdentity,
    StartExternalSignInInput,
    UnlinkExternalIdentityInput,
    linked_identity_of,
    sign_in_start_of,
)
from subgraphs.users.loaders import UsersInfo
from subgraphs.users.mfa import NO_MFA, MfaRequired
from subgraphs.users.models import SecurityEventRow, UserRow
from subgraphs.users.service import AuthResult, ProfileChanges, UserFilter
from subgraphs.users.session_schema import (
    Session,
    SessionMutations,
    sessions_page,
    user_agent,
)

Role = strawberry.enum(RoleValue, name="Role", description="What a user may do on the platform.")
SecurityEventKind = strawberry.enum(
    SecurityEventKindValue,
    name="SecurityEventKind",
    description="What a security audit log entry records.",
)
MFA_REQUIRED = "MFA_REQUIRED"
ACCOUNT_LINK_REQUIRED = "ACCOUNT_LINK_REQUIRED"
CONTACTS_SCOPE = "users:contacts"  # a service's, to read whom to write to and how


@strawberry.enum(description="Colour scheme of the user interface.")
class Theme(Enum):
    LIGHT = "LIGHT"
    DARK = "DARK"
    SYSTEM = "SYSTEM"


@strawberry.type(description="Personal settings, visible to the user and administrators.")
class Preferences:
    theme: Theme
    marketing_emails: bool
    reduced_motion: bool


@strawberry.type(name="MfaStatus", description="Multi-factor authentication of an account.")
class MfaStatusView:
    enabled: bool = strawberry.field(description="Sign-in asks for a code after the password.")
    enabled_at: datetime | None
    enrollment_pending: bool = strawberry.field(
        description="An authenticator was added but not yet confirmed with a code."
    )
    recovery_codes_remaining: int = strawberry.field(description="Unused recovery codes.")


@strawberry.federation.type(
    keys=["id"], description="A person using the platform.", directives=[PUBLIC_FEW_MINUTES]
)
class User:
    id: strawberry.ID
    name: str
    roles: list[Role]  # type: ignore[valid-type]
    bio: str | None
    avatar_url: str | None
    locale: str
    timezone: str
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[UserRow]
    # True when this object answers the user's own sign-in, before any token is sent.
    signing_in: strawberry.Private[bool] = False

    @strawberry.field(
        description="Visible to the user themself, to administrators, and to a service "
        "granted users:contacts (to write to them).",
        directives=[PER_USER],
    )
    def email(self, info: UsersInfo) -> str:
        self._check_private(info, service_scope=CONTACTS_SCOPE)
        return self.row.email

    @strawberry.field(
        description="Whether the owner opened a link e-mailed to `email` (verification or "
        "password reset). Visible to the user themself, to administrators, and to a service "
        "granted users:contacts (mail to unverified addresses waits).",
        directives=[PER_USER],
    )
    def email_verified(self, info: UsersInfo) -> bool:
        self._check_private(info, service_scope=CONTACTS_SCOPE)
        return self.row.email_verified_at is not None

    @strawberry.field(
        description="The address the user asked to change to: `email` stays the address "
        "until the link sent here is opened. Visible to the user themself and to administrators.",
        directives=[PER_USER],
    )
    def pending_email(self, info: UsersInfo) -> str | None:
        self._check_private(info)
        return self.row.pending_email

    @strawberry.field(
        description="Visible to the user themself and to administrators.", directives=[PER_USER]
    )
    def preferences(self, info: UsersInfo) -> Preferences:
        self._check_private(info)
        stored = self.row.preferences
        return Preferences(
            theme=Theme(stored.get("theme", Theme.SYSTEM.value)),
            marketing_emails=bool(stored.get("marketing_emails", False)),
            reduced_motion=bool(stored.get("reduced_motion", False)),
        )

    @strawberry.field(
        description="Visible to the user themself and to administrators.", directives=[PER_USER]
    )
    async def mfa(self, info: UsersInfo) -> MfaStatusView:
        self._check_private(info)
        status = await info.context.loaders.mfa.load(self.row.id) or NO_MFA
        return MfaStatusView(
            enabled=status.enabled,
            enabled_at=status.enabled_at,
            enrollment_pending=status.enrollment_pending,
            recovery_codes_remaining=status.recovery_codes_remaining,
        )

    @strawberry.field(
        description="Accounts at external providers that sign in as this user. Visible to "
        "the user themself and to administrators.",
        directives=[PER_USER],
    )
    async def linked_identities(self, info: UsersInfo) -> list[LinkedIdentity]:
        self._check_private(info)
        rows = await info.context.loaders.identities.load(self.row.id)
        return [linked_identity_of(row) for row in rows]

    @strawberry.field(
        description="Where this user is signed in, newest first. Visible to the user "
        "themself and to administrators.",
        directives=[PAGED, PER_USER],
    )
    async def sessions(
        self, info: UsersInfo, first: int | None = None, after: str | None = None
    ) -> Connection[Session]:
        self._check_private(info)
        return await sessions_page(info, self.row.id, first, after)

    @strawberry.field(
        description="Exports of this user's data, newest first. Visible to the user themself "
        "and to administrators.",
        directives=[PER_USER],
    )
    async def data_exports(self, info: UsersInfo) -> list[DataExport]:
        self._check_private(info)
        return await data_exports_of(info, self.id)

    def _check_private(self, info: UsersInfo, service_scope: str | None = None) -> None:
        """The user themself or an administrator; also a service granted ``service_scope``."""
        if self.signing_in:
            return
        caller = info.context.require_principal(service_scope=service_scope)
        if not (caller.is_service or caller.is_self_or_admin(self.row.id)):
            raise Forbidden("Only this user and administrators can see this field.")

    @classmethod
    async def resolve_reference(cls, info: UsersInfo, id: strawberry.ID) -> User | None:
        row = await info.context.loaders.user.load(parse_id(id))
        return None if row is None else user_of(row)


def user_of(row: UserRow, *, signing_in: bool = False) -> User:
    return User(
        id=graphql_id(row.id),
        name=row.name,
        roles=[RoleValue(role) for role in row.roles],
        bio=row.bio,
        avatar_url=row.avatar_url,
        locale=row.locale,
        timezone=row.timezone,
        created_at=row.created_at,
        updated_at=row.updated_at,
        row=row,
        signing_in=signing_in,
    )


@strawberry.type
class AuthPayload:
    user: User
    access_token: str
    refresh_token: str
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    token_type: str = "Bearer"


def auth_payload(result: AuthResult) -> AuthPayload:
    return AuthPayload(
        user=user_of(result.user, signing_in=True),
        access_token=result.access_token,
        refresh_token=result.refresh_token,
        expires_in=result.expires_in,
    )


@strawberry.type
class LogoutPayload:
    revoked_sessions: int


@strawberry.type
class UserPayload:
    user: User


@strawberry.type
class ChangePasswordPayload:
    success: bool


@strawberry.type
class DeleteUserPayload:
    deleted_user_id: strawberry.ID


@strawberry.type
class StartMfaEnrollmentPayload:
    secret: str = strawberry.field(
        description="The TOTP secret in base32, to type into an authenticator app."
    )
    otpauth_uri: str = strawberry.field(
        description="The same as an otpauth://totp/ URI, for a QR code (SHA1, 6 digits, 30 s)."
    )


@strawberry.type
class RecoveryCodesPayload:
    user: User
    recovery_codes: list[str] = strawberry.field(
        description="Single-use codes for when the authenticator is lost. Shown only now: "
        "they are stored hashed and cannot be read again."
    )


@strawberry.input
class ConfirmMfaEnrollmentInput:
    code: str = strawberry.field(description="The 6-digit code the authenticator app shows.")


@strawberry.input
class VerifyMfaInput:
    mfa_token: str = strawberry.field(description="From the MFA_REQUIRED error of login.")
    code: str | None = strawberry.field(
        default=None, description="The 6-digit code of the authenticator app."
    )
    recovery_code: str | None = strawberry.field(
        default=None, description="Or one of the recovery codes (each works once)."
    )


@strawberry.input
class DisableMfaInput:
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="Whose; yourself when omitted (others: admins only)."
    )
    password: str | None = strawberry.field(
        default=None, description="Your own password, or else code."
    )
    code: str | None = strawberry.field(
        default=None, description="A current code of your own authenticator app."
    )


@strawberry.input
class RegenerateRecoveryCodesInput:
    code: str = strawberry.field(description="A current code of your authenticator app.")


@strawberry.type(description="One entry of the security audit log.")
class SecurityEvent:
    id: strawberry.ID
    occurred_at: datetime
    kind: SecurityEventKind  # type: ignore[valid-type]
    actor_id: strawberry.ID | None = strawberry.field(
        description="Who acted: none for an anonymous attempt (a failed sign-in)."
    )
    subject_id: strawberry.ID | None = strawberry.field(
        description="Whose account it concerns; kept after the account is deleted."
    )
    client_address: str | None
    details: JSON = strawberry.field(
        description="What else there is to know: reasons, methods, old and new roles."
    )

    @strawberry.field(description="The actor's account; null once deleted.")
    async def actor(self, info: UsersInfo) -> User | None:
        return await _user_or_none(info, self.actor_id)

    @strawberry.field(description="The subject's account; null once deleted.")
    async def subject(self, info: UsersInfo) -> User | None:
        return await _user_or_none(info, self.subject_id)


async def _user_or_none(info: UsersInfo, user_id: strawberry.ID | None) -> User | None:
    if user_id is None:
        return None
    row = await info.context.loaders.user.load(parse_id(user_id))
    return None if row is None else user_of(row)


def security_event_of(row: SecurityEventRow) -> SecurityEvent:
    return SecurityEvent(
        id=graphql_id(row.id),
        occurred_at=row.occurred_at,
        kind=SecurityEventKindValue(row.kind),
        actor_id=graphql_id(row.actor_id) if row.actor_id else None,
        subject_id=graphql_id(row.subject_id) if row.subject_id else None,
        client_address=row.client_address,
        details=JSON(row.details),
    )


@strawberry.input
class SecurityEventFilterInput:
    kinds: list[SecurityEventKind] | None = None  # type: ignore[valid-type]
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="Events where this user is the actor or the subject."
    )
    since: datetime | None = strawberry.field(default=None, description="From (inclusive).")
    until: datetime | None = strawberry.field(default=None, description="Before (exclusive).")


@strawberry.input
class RegisterInput:
    email: str
    password: str
    name: str


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.input
class RefreshTokenInput:
    refresh_token: str


@strawberry.input
class LogoutInput:
    refresh_token: str
    all_sessions: bool = strawberry.field(
        default=False, description="Revoke every session of this user, not only this one."
    )


@strawberry.input
class PreferencesInput:
    theme: Theme | None = strawberry.UNSET
    marketing_emails: bool | None = strawberry.UNSET
    reduced_motion: bool | None = strawberry.UNSET


@strawberry.input
class UpdateProfileInput:
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="Whose profile; yourself when omitted (others: admins only)."
    )
    name: str | None = strawberry.UNSET
    bio: str | None = strawberry.UNSET
    avatar_url: str | None = strawberry.UNSET
    locale: str | None = strawberry.UNSET
    timezone: str | None = strawberry.UNSET
    preferences: PreferencesInput | None = strawberry.UNSET


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.input
class SetUserRolesInput:
    user_id: strawberry.ID
    roles: list[Role]  # type: ignore[valid-type]


@strawberry.input
class DeleteUserInput:
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="Whose account; yourself when omitted (others: admins only)."
    )


@strawberry.input
class UserFilterInput:
    role: Role | None = None  # type: ignore[valid-type]
    search: str | None = strawberry.field(default=None, description="Part of name or email.")
    created_after: datetime | None = None
    created_before: datetime | None = None


def _set_fields(value: object) -> dict[str, Any]:
    return {
        name: (item.value if isinstance(item, Enum) else item)
        for name, item in vars(value).items()
        if item is not strawberry.UNSET and name != "user_id"
    }


@strawberry.type
class Query(ApiKeyQueries, ExternalSignInQueries):
    @strawberry.field(
        extensions=[signed_in()], description="The signed-in user.", directives=[PER_USER]
    )
    async def me(self, info: UsersInfo) -> User | None:
        context = info.context
        return user_of(await context.service.users.me(context.require_principal()))

    # for signed-in callers only: never shared with anonymous ones
    @strawberry.field(description="A user's public profile.", directives=[PRIVATE_FIELD])
    async def user(self, info: UsersInfo, id: strawberry.ID) -> User:
        context = info.context
        return user_of(await context.service.users.get(context.require_principal(), parse_id(id)))

    @strawberry.field(
        extensions=[scopes(["users:read"])],
        description="Every user, oldest first (administrators only).",
        directives=[PAGED],
    )
    async def users(
        self,
        info: UsersInfo,
        first: int | None = None,
        after: str | None = None,
        filter: UserFilterInput | None = None,
    ) -> Connection[User]:
        context = info.context
        criteria = filter or UserFilterInput()
        page = await context.service.users.listing(
            context.require_principal(),
            UserFilter(
                role=criteria.role,
                search=criteria.search,
                created_after=criteria.created_after,
                created_before=criteria.created_before,
            ),
            first=first,
            after=after,
        )
        return Connection.from_page(page, user_of)

    @strawberry.field(
        extensions=[scopes(["admin"])],
        description="The security audit log, newest first (administrators only).",
        directives=[PAGED],
    )
    async def security_events(
        self,
        info: UsersInfo,
        first: int | None = None,
        after: str | None = None,
        filter: SecurityEventFilterInput | None = None,
    ) -> Connection[SecurityEvent]:
        context = info.context
        principal = context.require_principal()
        criteria = filter or SecurityEventFilterInput()
        page = await context.service.users.security_events(
            principal,
            EventFilter(
                kinds=(
                    None
                    if criteria.kinds is None
                    else frozenset(SecurityEventKindValue(kind) for kind in criteria.kinds)
                ),
                user_id=parse_id(criteria.user_id, field="userId")
                if criteria.user_id is not None
                else None,
                since=criteria.since,
                until=criteria.until,
            ),
            first=first,
            after=after,
        )
        return Connection.from_page(page, security_event_of)


# --- E-mail verification, e-mail change and password reset (subgraphs/users/email_links.py) ---


@strawberry.input
class EmailTokenInput:
    token: str = strawberry.field(description="The token of the link we e-mailed.")


@strawberry.input
class RequestEmailChangeInput:
    new_email: str
    current_password: str | None = strawberry.field(
        default=None, description="Required when the account has a password."
    )


@strawberry.input
class RequestPasswordResetInput:
    email: str


@strawberry.input
class ResetPasswordInput:
    token: str = strawberry.field(description="The token of the reset link we e-mailed.")
    new_password: str


@strawberry.type
class PasswordResetRequestedPayload:
    accepted: bool = strawberry.field(
        description="Always true for a well-formed address: whether an account has it is not told."
    )


@strawberry.type
class ResetPasswordPayload:
    success: bool


@strawberry.type
class VerifyEmailPayload:
    verified_email: str = strawberry.field(
        description="The address the link proved: now the account's, and verified."
    )
    user: User = strawberry.field(
        description="The account (its private fields need its own session, as elsewhere)."
    )


@strawberry.type
class EmailLinkMutations:
    @strawberry.mutation(
        description="Open an e-mail verification link: its address is verified (and becomes "
        "the account's, after requestEmailChange). Works signed out; signed in, only for "
        "your own account's links (FORBIDDEN otherwise)."
    )
    async def verify_email(self, info: UsersInfo, input: EmailTokenInput) -> VerifyEmailPayload:
        context = info.context
        row = await context.service.users.emails.verify_email(
            input.token, context.client_address, context.principal
        )
        return VerifyEmailPayload(verified_email=row.email, user=user_of(row))

    @strawberry.mutation(
        extensions=[signed_in()],
        description="Send a new verification link (the earlier ones stop working); a few "
        "an hour (RATE_LIMITED past them).",
    )
    async def resend_verification_email(self, info: UsersInfo) -> UserPayload:
        context = info.context
        row = await context.service.users.emails.resend_verification(context.require_principal())
        return UserPayload(user=user_of(row))

    @strawberry.mutation(
        extensions=[signed_in()],
        description="Ask to change your e-mail address: a verification link goes to the new "
        "one, which becomes your address when the link is opened (pendingEmail until then).",
    )
    async def request_email_change(
        self, info: UsersInfo, input: RequestEmailChangeInput
    ) -> UserPayload:
        context = info.context
        service = context.service.users
        row = await service.emails.request_email_change(
            context.require_principal(),
            input.new_email,
            input.current_password,
            context.client_address,
            service.password_checks,
        )
        return UserPayload(user=user_of(row))

    @strawberry.mutation(
        description="E-mail a password reset link to the account with this address, if any "
        "(the answer is the same either way). Also sets a first password on an account that "
        "signs in with an external provider only."
    )
    async def request_password_reset(
        self, info: UsersInfo, input: RequestPasswordResetInput
    ) -> PasswordResetRequestedPayload:
        context = info.context
        await context.service.users.emails.request_password_reset(
            input.email, context.client_address
        )
        return PasswordResetRequestedPayload(accepted=True)

    @strawberry.mutation(
        description="Open a password reset link: the new password is set and every session "
        "of the account is signed out. Works signed out; signed in, only for your own "
        "account's links (FORBIDDEN otherwise)."
    )
    async def reset_password(
        self, info: UsersInfo, input: ResetPasswordInput
    ) -> ResetPasswordPayload:
        context = info.context
        await context.service.users.reset_password(
            input.token, input.new_password, context.client_address, context.principal
        )
        return ResetPasswordPayload(success=True)


@strawberry.type
class Mutation(EmailLinkMutations, ApiKeyMutations, SessionMutations, DataExportMutations):
    @strawberry.mutation(description="Create a student account and sign in.")
    async def register(self, info: UsersInfo, input: RegisterInput) -> AuthPayload:
        context = info.context
        result = await context.service.users.register(
            input.email,
            input.password,
            input.name,
            context.client_address,
            user_agent=user_agent(info),
        )
        return auth_payload(result)

    @strawberry.mutation(
        description="Sign in: a short-lived access token and a refresh token. When the "
        "account has multi-factor authentication on, fails with extensions.code MFA_REQUIRED "
        "and extensions.mfaToken (valid 5 minutes) to send to verifyMfa with a code."
    )
    async def login(self, info: UsersInfo, input: LoginInput) -> AuthPayload:
        context = info.context
        try:
            result = await context.service.users.login(
                input.email, input.password, context.client_address, user_agent=user_agent(info)
            )
        except MfaRequired as required:
            raise mfa_required_error(required) from None
        return auth_payload(result)

    @strawberry.mutation(
        description="Start signing in with an external provider (OpenID Connect, "
        "authorization code with PKCE; or a SAML 2.0 IdP, answering at /saml/acs of the "
        "users service): send the browser to authorizationUrl."
    )
    async def start_external_sign_in(
        self, info: UsersInfo, input: StartExternalSignInInput
    ) -> ExternalSignInStart:
        start = await info.context.service.users.external.start(input.provider, input.redirect_uri)
        return sign_in_start_of(start)

    @strawberry.mutation(
        description="Finish signing in with an external provider: the state and code it "
        "sent back, for tokens. The provider's account signs in to the account it is "
        "linked to, else to a new student account when no account has its verified email. "
        "An existing account of that email is linked only when the provider is trusted to "
        "(LMS_OIDC_<NAME>_LINK_BY_EMAIL) and the account is a student's without a second "
        "factor; otherwise fails with extensions.code ACCOUNT_LINK_REQUIRED: its owner signs "
        "in and links the provider (startExternalIdentityLink, linkExternalIdentity). "
        "MFA_REQUIRED as for login when the account has a second factor."
    )
    async def complete_external_sign_in(
        self, info: UsersInfo, input: CompleteExternalSignInInput
    ) -> AuthPayload:
        context = info.context
        try:
            result = await context.service.users.complete_external_sign_in(
                input.state, input.code, context.client_address, user_agent=user_agent(info)
            )
        except MfaRequired as required:
            raise mfa_required_error(required) from None
        except LinkRequired as required:
            raise GraphQLError(
                required.message,
                extensions={"code": ACCOUNT_LINK_REQUIRED, "provider": required.provider},
            ) from None
        return auth_payload(result)

    @strawberry.mutation(
        extensions=[signed_in()],
        description="Start linking an external provider to your account: as "
        "startExternalSignIn, but only you, signed in, can finish it, with "
        "linkExternalIdentity.",
    )
    async def start_external_identity_link(
        self, info: UsersInfo, input: StartExternalSignInInput
    ) -> ExternalSignInStart:
        context = info.context
        start = await context.service.users.start_external_link(
            context.require_principal(), input.provider, input.redirect_uri
        )
        return sign_in_start_of(start)

    @strawberry.mutation(
        extensions=[signed_in()],
        description="Finish linking an external provider to your account: the state and "
        "code it sent back to the link you started (FORBIDDEN for another account's). The "
        "provider's account signs in to yours from then on.",
    )
    async def link_external_identity(
        self, info: UsersInfo, input: CompleteExternalSignInInput
    ) -> UserPayload:
        context = info.context
        row = await context.service.users.link_external_identity(
            context.require_principal(), input.state, input.code, context.client_address
        )
        return UserPayload(user=user_of(row))

    @strawberry.mutation(
        extensions=[signed_in()],
        description="Stop an external provider signing in to your account (refused when it "
        "is the account's only way to sign in).",
    )
    async def unlink_external_identity(
        self, info: UsersInfo, input: UnlinkExternalIdentityInput
    ) -> UserPayload:
        context = info.context
        row = await context.service.users.unlink_external_identity(
            context.require_principal(), input.provider, context.client_address
        )
        return UserPayload(user=user_of(row))

    @strawberry.mutation(
        description="The second step of a sign-in with multi-factor authentication: the "
        "mfaToken of login's MFA_REQUIRED error and a code (or a recovery code), for tokens."
    )
    async def verify_mfa(self, info: UsersInfo, input: VerifyMfaInput) -> AuthPayload:
        context = info.context
        result = await context.service.users.verify_mfa(
            input.mfa_token,
            code=input.code,
            recovery_code=input.recovery_code,
            address=context.client_address,
            user_agent=user_agent(info),
        )
        return auth_payload(result)

    @strawberry.mutation(description="Trade a refresh token for new tokens (it is used up).")
    async def refresh_token(self, info: UsersInfo, input: RefreshTokenInput) -> AuthPayload:
        context = info.context
        return auth_payload(
            await context.service.users.refresh(
                input.refresh_token, context.client_address, user_agent=user_agent(info)
            )
        )

    @strawberry.mutation(
        description="Revoke this session (its refresh and access tokens), or every session "
        "of the user."
    )
    async def logout(self, info: UsersInfo, input: LogoutInput) -> LogoutPayload:
        context = info.context
        revoked = await context.service.users.logout(
            input.refresh_token, all_sessions=input.all_sessions, address=context.client_address
        )
        return LogoutPayload(revoked_sessions=revoked)

    @strawberry.mutation(
        description="Start adding an authenticator app: a new secret, pending until "
        "confirmMfaEnrollment (starting again replaces a pending one)."
    )
    async def start_mfa_enrollment(self, info: UsersInfo) -> StartMfaEnrollmentPayload:
        context = info.context
        enrollment = await context.service.users.mfa.start_enrollment(
            context.require_principal(), context.client_address
        )
        return StartMfaEnrollmentPayload(
            secret=enrollment.secret, otpauth_uri=enrollment.otpauth_uri
        )

    @strawberry.mutation(
        description="Confirm the authenticator with its current code: multi-factor "
        "authentication is on, and the recovery codes are returned, once."
    )
    async def confirm_mfa_enrollment(
        self, info: UsersInfo, input: ConfirmMfaEnrollmentInput
    ) -> RecoveryCodesPayload:
        context = info.context
        principal = context.require_principal()
        codes = await context.service.users.mfa.confirm_enrollment(
            principal, input.code, context.client_address
        )
        return RecoveryCodesPayload(user=await _own_user(info), recovery_codes=codes)

    @strawberry.mutation(
        description="Turn multi-factor authentication off, with your password or a current "
        "code; administrators may turn it off for another user (with their own)."
    )
    async def disable_mfa(self, info: UsersInfo, input: DisableMfaInput) -> UserPayload:
        context = info.context
        principal = context.require_principal()
        user_id = (
            parse_id(input.user_id, field="userId")
            if input.user_id is not None
            else principal.user_id
        )
        row = await context.service.users.mfa.disable(
            principal,
            user_id,
            password=input.password,
            code=input.code,
            address=context.client_address,
        )
        return UserPayload(user=user_of(row))

    @strawberry.mutation(
        description="New recovery codes for a current code; the old ones stop working."
    )
    async def regenerate_recovery_codes(
        self, info: UsersInfo, input: RegenerateRecoveryCodesInput
    ) -> RecoveryCodesPayload:
        context = info.context
        codes = await context.service.users.mfa.regenerate_recovery_codes(
            context.require_principal(), input.code, context.client_address
        )
        return RecoveryCodesPayload(user=await _own_user(info), recovery_codes=codes)

    @strawberry.mutation(
        extensions=[scopes(["profile:write"])],
        description="Change profile fields; omitted fields stay as they are.",
    )
    async def update_profile(self, info: UsersInfo, input: UpdateProfileInput) -> UserPayload:
        context = info.context
        principal = context.require_principal()
        user_id = (
            parse_id(input.user_id, field="userId")
            if input.user_id is not None
            else principal.user_id
        )
        changes = _set_fields(input)
        if isinstance(input.preferences, PreferencesInput):
            changes["preferences"] = _set_fields(input.preferences)
        row = await context.service.users.update_profile(
            principal, user_id, ProfileChanges(changes)
        )
        return UserPayload(user=user_of(row))

    @strawberry.mutation(
        extensions=[signed_in()],
        description="Change your password; signs out every session.",
    )
    async def change_password(
        self,
        info: UsersInfo,
        input: ChangePasswordInput,
    ) -> ChangePasswordPayload:
        context = info.context
        await context.service.users.change_password(
            context.require_principal(),
            input.current_password,
            input.new_password,
            context.client_address,
        )
        return ChangePasswordPayload(success=True)

    @strawberry.mutation(
        extensions=[scopes(["users:write"])],
        description="Set a user's roles (administrators only).",
    )
    async def set_user_roles(self, info: UsersInfo, input: SetUserRolesInput) -> UserPayload:
        context = info.context
        roles = frozenset(RoleValue(role) for role in input.roles)
        row = await context.service.users.set_roles(
            context.require_principal(),
            parse_id(input.user_id, field="userId"),
            roles,
            context.client_address,
        )
        return UserPayload(user=user_of(row))

    @strawberry.mutation(
        extensions=[signed_in()],
        description="Delete an account and all its data (self or admin).",
    )
    async def delete_user(self, info: UsersInfo, input: DeleteUserInput) -> DeleteUserPayload:
        context = info.context
        principal = context.require_principal()
        user_id = (
            parse_id(input.user_id, field="userId")
            if input.user_id is not None
            else principal.user_id
        )
        deleted = await context.service.users.delete(principal, user_id, context.client_address)
        return DeleteUserPayload(deleted_user_id=graphql_id(deleted))


def mfa_required_error(required: MfaRequired) -> GraphQLError:
    return GraphQLError(
        required.message,
        extensions={
            "code": MFA_REQUIRED,
            "mfaToken": required.mfa_token,
            "mfaTokenExpiresIn": required.expires_in,
        },
    )


async def _own_user(info: UsersInfo) -> User:
    context = info.context
    return user_of(await context.service.users.me(context.require_principal()))


schema = ServiceSchema(query=Query, mutation=Mutation, types=[User])
