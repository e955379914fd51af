"""Use cases of the users domain: each validates, authorizes and runs in one transaction."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import clock
from common.auth import Principal, Role, TokenIssuer
from common.auth.account_guesses import AccountGuesses
from common.auth.quota import Quota
from common.auth.revocations import Revocation
from common.auth.throttle import Throttle
from common.db.batches import rows_by_id
from common.db.pagination import Page, fetch_ordered_page, fetch_page
from common.errors import (
    BadUserInput,
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from common.events.envelope import Event
from common.events.outbox import emit
from subgraphs.users import audit, validation
from subgraphs.users.accounts import open_account
from subgraphs.users.api_keys import ApiKeysService
from subgraphs.users.audit import EventFilter
from subgraphs.users.audit import SecurityEventKind as Kind
from subgraphs.users.email_links import EmailLinks, Purpose, mark_verified
from subgraphs.users.external_accounts import account_for, identities_of, link, unlink
from subgraphs.users.external_sign_in import ExternalIdentity, ExternalSignIn, SignInStart
from subgraphs.users.mfa import CHALLENGE_TTL, Factors, MfaRequired, MfaService
from subgraphs.users.models import (
    EVENTS,
    ExternalIdentityRow,
    MfaChallengeRow,
    RefreshTokenRow,
    SecurityEventRow,
    TotpFactorRow,
    UserRow,
    roles_of,
)
from subgraphs.users.passwords import digest, hash_password, verify_password
from subgraphs.users.revocations import DurableRevocations
from subgraphs.users.sessions import Device, SessionsService, end_refresh_tokens, record_use

INVALID_CREDENTIALS = "Invalid email or password."
REUSED_REFRESH = "This refresh token was already used; every session it started is revoked."
MFA_TOKEN_UNKNOWN = "The mfaToken is not valid; sign in again."
MFA_TOKEN_EXPIRED = "The mfaToken has expired; sign in again."
MFA_TOKEN_USED = "The mfaToken was already used; sign in again."
MFA_OFF = "Multi-factor authentication is no longer enabled for this account; sign in again."
WRONG_MFA_CODE = "The code is not valid, or was already used; enter the current code."
WRONG_RECOVERY_CODE = "The recovery code is not valid, or was already used."


@dataclass(frozen=True, slots=True)
class AuthResult:
    user: UserRow
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """Column values a client asked to set; a column not named here keeps its value."""

    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UserFilter:
    role: Role | None = None
    search: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


class UsersService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        issuer: TokenIssuer,
        *,
        refresh_ttl_seconds: int,
        throttle: Throttle,
        guesses: AccountGuesses,
        mfa_throttle: Throttle,
        password_throttle: Throttle,
        api_key_throttle: Throttle,
        registrations: Quota,
        welcomes: Quota,
        factors: Factors,
        external: ExternalSignIn,
        tokens: DurableRevocations,
        emails: EmailLinks,
    ) -> None:
        self.sessions = sessions
        self.emails = emails  # verification and password reset links
        self._tokens = tokens
        self.revocations = tokens
        self.external = external
        self._issuer = issuer
        self.api_keys = ApiKeysService(sessions, issuer, api_key_throttle)
        self._refresh_ttl = timedelta(seconds=refresh_ttl_seconds)
        self._throttle = throttle  # by (account, client address), and by address
        self._guesses = guesses  # by account, from addresses it has not signed in from
        self._registrations = registrations  # by client address
        self._welcomes = welcomes  # welcome e-mails, by the address they go to
        self._mfa_throttle = mfa_throttle
        self._password_throttle = password_throttle
        self.password_checks = password_throttle  # the current password, wherever it is asked
        self._factors = factors
        self.mfa = MfaService(sessions, factors, mfa_throttle)
        self.signed_in = SessionsService(sessions, tokens)  # me.sessions, revokeSession

    # Sign-up, sign-in and sessions

    async def register(
        self,
        email: str,
        password: str,
        name: str,
        address: str | None = None,
        *,
        user_agent: str | None = None,
    ) -> AuthResult:
        email_address = validation.email(email)
        validation.password(password, email_address=email_address)
        display_name = validation.name(name)
        await self._registrations.take(
            address or "unknown", "Too many accounts registered from your network address"
        )
        password_hash = await hash_password(password)
        welcome = await self._welcomes.allows(email_address)
        try:
            async with self.sessions.begin() as session:
                user = await open_account(
                    session,
                    email=email_address,
                    name=display_name,
                    password_hash=password_hash,
                    address=address,
                    method="password",
                    welcome=welcome,
                )
                mail = await self.emails.issue(
                    session, user.id, Purpose.VERIFY_EMAIL, email_address
                )
                result = await self._start_session(
                    session, user, family_id=uuid.uuid4(), device=Device(address, user_agent)
                )
        except IntegrityError:
            raise Conflict("An account with this email already exists.", field="email") from None
        self.emails.send_later(mail, "verification")
        return result

    async def login(
        self,
        email: str,
        password: str,
        address: str | None = None,
        *,
        user_agent: str | None = None,
    ) -> AuthResult:
        """Tokens for the right password, or MfaRequired when the account has MFA on."""
        client = f"{email}\n{address or ''}"  # the account at this client address
        try:
            await self._throttle.check(client, address)
            known = await self._guesses.known(email, address)
            booking = None if known else await self._guesses.book(email)
        except RateLimited:
            await self._failed_sign_in(email, address, "rate_limited")
            raise
        async with self.sessions() as session:
            user = await session.scalar(
                select(UserRow).where(UserRow.email == email.strip().lower())
            )
        valid = await verify_password(user.password_hash if user else None, password)
        if user is None or not valid:
            await self._throttle.failed(client, address)
            await self._failed_sign_in(
                email, address, "unknown_account" if user is None else "wrong_password"
            )
            raise Unauthenticated(INVALID_CREDENTIALS)
        await self._throttle.succeeded(client)
        await self._guesses.signed_in(email, address, booking)
        async with self.sessions.begin() as session:
            outcome = await self._first_factor_passed(
                session, user, Device(address, user_agent), method="password"
            )
        return _tokens_or_challenge(outcome)  # a challenge is told once it is committed

    async def _first_factor_passed(
        self, session: AsyncSession, user: UserRow, device: Device, *, method: str
    ) -> AuthResult | SecondFactorDue:
        """Tokens, or a challenge when the account has a second factor."""
        address = device.address
        if await self._factors.enabled(session, user.id, lock=False) is None:
            audit.record(
                session,
                Kind.SIGN_IN_SUCCEEDED,
                actor=user.id,
                subject=user.id,
                address=address,
                method=method,
            )
            return await self._start_session(session, user, family_id=uuid.uuid4(), device=device)
        mfa_token = await self._factors.open_challenge(session, user.id)
        audit.record(
            session,
            Kind.MFA_CHALLENGE_ISSUED,
            actor=None,
            subject=user.id,
            address=address,
            method=method,
        )
        return SecondFactorDue(mfa_token)

    async def complete_external_sign_in(
        self,
        state: str,
        code: str,
        address: str | None = None,
        *,
        user_agent: str | None = None,
    ) -> AuthResult:
        """Tokens for the person an external provider vouches for (external_accounts.py
        says which account that is), or MfaRequired as for a password."""
        try:
            identity = await self.external.finish(state, code)
        except Unauthenticated as refused:
            async with self.sessions.begin() as session:
                audit.record(
                    session,
                    Kind.SIGN_IN_FAILED,
                    actor=None,
                    subject=None,
                    address=address,
                    method="external",
                    reason=refused.message[:200],
                )
            raise
        return await self._sign_in_as(identity, Device(address, user_agent))

    async def _sign_in_as(self, identity: ExternalIdentity, device: Device) -> AuthResult:
        address = device.address
        for attempt in range(2):  # two first sign-ins of one identity race: the loser retries
            try:
                async with self.sessions.begin() as session:
                    user = await account_for(
                        session,
                        identity,
                        address,
                        link_by_email=self.external.links_by_email(identity.provider),
                        factors=self._factors,
                    )
                    outcome = await self._first_factor_passed(
                        session, user, device, method=f"{identity.protocol}:{identity.provider}"
                    )
                return _tokens_or_challenge(outcome)
            except IntegrityError:
                if attempt:
                    raise Conflict("This sign-in raced another one; sign in again.") from None
        raise AssertionError("unreachable")

    async def start_external_link(
        self, principal: Principal, provider: str, redirect_uri: str
    ) -> SignInStart:
        """A sign-in with the provider that only this user, signed in, can finish: to link."""
        return await self.external.start(provider, redirect_uri, link_to=principal.user_id)

    async def link_external_identity(
        self, principal: Principal, state: str, code: str, address: str | None = None
    ) -> UserRow:
        """Link the identity the provider vouches for to the signed-in user, who started it."""
        identity = await self.external.finish(state, code, link_to=principal.user_id)
        try:
            async with self.sessions.begin() as session:
                user = await self._locked(session, principal.user_id)
                await link(session, user, identity, address, confirmed=True)
                return user
        except IntegrityError:  # the same identity linked at the same moment elsewhere
            raise Conflict(f"This {identity.provider} account is already linked.") from None

    async def unlink_external_identity(
        self, principal: Principal, provider: str, address: str | None = None
    ) -> UserRow:
        async with self.sessions.begin() as session:
            user = await self._locked(session, principal.user_id)
            await unlink(session, user, provider, address)
            return user

    async def _failed_sign_in(self, email: str, address: str | None, reason: str) -> None:
        """The attempt in the audit log, naming the account by id (never the address typed)."""
        async with self.sessions.begin() as session:
            subject = await session.scalar(
                select(UserRow.id).where(UserRow.email == email.strip().lower())
            )
            if reason == "rate_limited":  # repeatable at will: counted, not one row each
                await audit.record_repeated(
                    session, Kind.SIGN_IN_FAILED, subject=subject, address=address, reason=reason
                )
                return
            audit.record(
                session,
                Kind.SIGN_IN_FAILED,
                actor=None,
                subject=subject,
                address=address,
                reason=reason,
            )

    async def verify_mfa(
        self,
        mfa_token: str,
        *,
        code: str | None,
        recovery_code: str | None,
        address: str | None = None,
        user_agent: str | None = None,
    ) -> AuthResult:
        """The second step of a sign-in: a challenge from login and a code, for tokens."""
        mfa_token = validation.mfa_token(mfa_token)
        validation.one_second_factor(code=code, recovery=recovery_code)
        code = validation.totp_code(code) if code is not None else None
        recovery_code = (
            validation.recovery_code(recovery_code) if recovery_code is not None else None
        )
        async with self.sessions() as session:
            challenge = await self._factors.challenge(session, mfa_token, lock=False)
        problem = _challenge_problem(challenge)
        if challenge is None or problem is not None:
            await self._mfa_throttle.check(None, address)
            await self._mfa_throttle.failed(None, address)
            raise Unauthenticated(problem or MFA_TOKEN_UNKNOWN)
        user_id = challenge.user_id
        account = str(user_id)
        try:
            await self._mfa_throttle.check(account, address)
        except RateLimited:
            async with self.sessions.begin() as session:
                await audit.record_repeated(
                    session,
                    Kind.MFA_CHALLENGE_FAILED,
                    subject=user_id,
                    address=address,
                    operation="sign_in",
                    reason="rate_limited",
                )
            raise
        result: AuthResult | None = None
        async with self.sessions.begin() as session:
            challenge = await self._factors.challenge(session, mfa_token, lock=True)
            problem = _challenge_problem(challenge)
            if challenge is None or problem is not None:  # spent meanwhile, by a racing request
                raise Unauthenticated(problem or MFA_TOKEN_UNKNOWN)
            factor = await self._factors.enabled(session, user_id, lock=True)
            if factor is None:
                raise Unauthenticated(MFA_OFF)
            method = "totp" if code is not None else "recovery_code"
            if await self._second_factor(session, factor, code, recovery_code, address):
                challenge.used_at = clock.now()
                user = await session.get_one(UserRow, user_id)
                audit.record(
                    session,
                    Kind.SIGN_IN_SUCCEEDED,
                    actor=user_id,
                    subject=user_id,
                    address=address,
                    method=f"password+{method}",
                )
                result = await self._start_session(
                    session, user, family_id=uuid.uuid4(), device=Device(address, user_agent)
                )
            else:
                audit.record(
                    session,
                    Kind.MFA_CHALLENGE_FAILED,
                    actor=None,
                    subject=user_id,
                    address=address,
                    operation="sign_in",
                    reason="wrong_code" if code is not None else "wrong_recovery_code",
                )
        if result is None:
            await self._mfa_throttle.failed(account, address)
            raise Unauthenticated(WRONG_MFA_CODE if code is not None else WRONG_RECOVERY_CODE)
        await self._mfa_throttle.succeeded(account)
        return result

    async def _second_factor(
        self,
        session: AsyncSession,
        factor: TotpFactorRow,
        code: str | None,
        recovery_code: str | None,
        address: str | None,
    ) -> bool:
        """Spend the code (its time step) or the recovery code, if it is a right one."""
        if code is not None:
            return self._factors.accept_code(factor, code)
        assert recovery_code is not None
        left = await self._factors.use_recovery_code(session, factor.user_id, recovery_code)
        if left is None:
            return False
        audit.record(
            session,
            Kind.RECOVERY_CODE_USED,
            actor=factor.user_id,
            subject=factor.user_id,
            address=address,
            remaining=left,
        )
        return True

    async def refresh(
        self, refresh_token: str, address: str | None = None, *, user_agent: str | None = None
    ) -> AuthResult:
        async with self.sessions.begin() as session:
            row = await session.scalar(
                select(RefreshTokenRow)
                .where(RefreshTokenRow.token_hash == digest(refresh_token))
                .with_for_update()
            )
            if row is None:
                raise Unauthenticated("The refresh token is not valid.")
            if row.used_at is None and row.revoked_at is None:
                if row.expires_at <= clock.now():
                    raise Unauthenticated("The refresh token has expired; sign in again.")
                row.used_at = clock.now()
                user = await session.get_one(UserRow, row.user_id)
                return await self._start_session(
                    session, user, family_id=row.family_id, device=Device(address, user_agent)
                )
            revoked = await self._revoke(session, RefreshTokenRow.family_id == row.family_id)
            if row.used_at is not None:  # a token presented twice: someone else has a copy
                audit.record(
                    session,
                    Kind.REFRESH_TOKEN_REUSED,
                    actor=None,
                    subject=row.user_id,
                    address=address,
                    revoked_sessions=revoked,
                )
                # the access tokens of the copy too
                ended: Revocation | None = await self._tokens.record(session, row.user_id)
            else:
                ended = None
        if ended is not None:
            await self._tokens.announce(ended)
        raise Unauthenticated(REUSED_REFRESH)

    async def logout(
        self, refresh_token: str, *, all_sessions: bool, address: str | None = None
    ) -> int:
        async with self.sessions.begin() as session:
            row = await session.scalar(
                select(RefreshTokenRow).where(RefreshTokenRow.token_hash == digest(refresh_token))
            )
            if row is None:
                raise Unauthenticated("The refresh token is not valid.")
            if all_sessions:
                revoked = await self._revoke(session, RefreshTokenRow.user_id == row.user_id)
                audit.record(
                    session,
                    Kind.LOGOUT_ALL,
                    actor=row.user_id,
                    subject=row.user_id,
                    address=address,
                    revoked_sessions=revoked,
                )
                revocations = [await self._tokens.record(session, row.user_id)]
            else:  # this session: its refresh tokens, and its access tokens
                ended = await end_refresh_tokens(
                    session, RefreshTokenRow.family_id == row.family_id
                )
                revoked = ended.refresh_tokens
                revocations = [self._tokens.session_ended(one) for one in ended.sessions]
        for revocation in revocations:
            await self._tokens.announce(revocation)
        return revoked

    async def _start_session(
        self, session: AsyncSession, user: UserRow, *, family_id: uuid.UUID, device: Device
    ) -> AuthResult:
        """A new refresh token of the family, and the session's use recorded."""
        refresh_token = secrets.token_urlsafe(32)
        expires_at = clock.now() + self._refresh_ttl
        await record_use(session, user.id, family_id, device, expires_at)
        session.add(
            RefreshTokenRow(
                id=uuid.uuid4(),
                user_id=user.id,
                family_id=family_id,
                token_hash=digest(refresh_token),
                expires_at=expires_at,
            )
        )
        return AuthResult(
            user=user,
            access_token=self._issuer.issue(user.id, roles_of(user), session_id=family_id),
            refresh_token=refresh_token,
            expires_in=self._issuer.ttl_seconds,
        )

    async def _revoke(self, session: AsyncSession, scope: Any) -> int:
        return (await end_refresh_tokens(session, scope)).refresh_tokens

    # Reading

    async def me(self, principal: Principal) -> UserRow:
        async with self.sessions() as session:
            user = await session.get(UserRow, principal.user_id)
        if user is None:
            raise Unauthenticated("The account behind this access token no longer exists.")
        return user

    async def get(self, principal: Principal, user_id: uuid.UUID) -> UserRow:
        del principal  # any signed-in user may see a public profile; private fields check again
        async with self.sessions() as session:
            user = await session.get(UserRow, user_id)
        if user is None:
            raise NotFound(f"No user has id {user_id}.", field="id")
        return user

    async def listing(
        self, principal: Principal, criteria: UserFilter, *, first: int | None, after: str | None
    ) -> Page[UserRow]:
        if "users:read" not in principal.scopes:
            raise Forbidden("Only administrators can list users.")
        async with self.sessions() as session:
            return await fetch_page(
                session,
                _filtered(select(UserRow), criteria),
                created_at=UserRow.created_at,
                row_id=UserRow.id,
                first=first,
                after=after,
            )

    # Changing

    async def update_profile(
        self, principal: Principal, user_id: uuid.UUID, changes: ProfileChanges
    ) -> UserRow:
        if not principal.is_self_or_admin(user_id):
            raise Forbidden("You can only change your own profile.")
        async with self.sessions.begin() as session:
            user = await self._locked(session, user_id)
            for column, value in validation.profile(changes.values).items():
                if column == "preferences" and isinstance(value, dict):
                    value = {**user.preferences, **value}
                setattr(user, column, value)
            user.updated_at = clock.now()
            await self._announce_update(session, user.id)
            return user

    async def change_password(
        self, principal: Principal, current: str, new: str, address: str | None = None
    ) -> None:
        """Guessing the current password with a stolen session is throttled like sign-in."""
        account = str(principal.user_id)
        await self._password_throttle.check(account, address)
        async with self.sessions.begin() as session:
            user = await self._locked(session, principal.user_id)
            if user.password_hash is None:
                raise BadUserInput(
                    "This account has no password: it signs in with an external provider.",
                    field="currentPassword",
                )
            right = await verify_password(user.password_hash, current)
            if right:
                validation.password(new, field="newPassword", email_address=user.email)
                user.password_hash = await hash_password(new)
                user.updated_at = clock.now()
                revoked = await self._revoke(session, RefreshTokenRow.user_id == user.id)
                audit.record(
                    session,
                    Kind.PASSWORD_CHANGED,
                    actor=principal.user_id,
                    subject=user.id,
                    address=address,
                    revoked_sessions=revoked,
                )
                ended: Revocation | None = await self._tokens.record(session, user.id)
            else:
                ended = None
                audit.record(
                    session,
                    Kind.PASSWORD_CHANGE_FAILED,
                    actor=principal.user_id,
                    subject=user.id,
                    address=address,
                    reason="wrong_current_password",
                )
        wrong = BadUserInput("currentPassword is not your password.", field="currentPassword")
        await self._password_throttle.settle(account, address, right, wrong)
        if ended is not None:
            await self._tokens.announce(ended)

    async def reset_password(
        self,
        token: str,
        new: str,
        address: str | None = None,
        principal: Principal | None = None,
    ) -> None:
        """Set the password a reset link allows (on a passwordless account too), proving
        the address, and end every session of the account. Signed in, only your own."""
        async with self.sessions.begin() as session:
            redeemed = await self.emails.redeem(
                session, token, Purpose.RESET_PASSWORD, address, principal
            )
            user = redeemed.user
            validation.password(new, field="newPassword", email_address=user.email)
            had_password = user.password_hash is not None
            user.password_hash = await hash_password(new)
            await mark_verified(session, user)  # the link proved the address
            revoked = await self._revoke(session, RefreshTokenRow.user_id == user.id)
            audit.record(
                session,
                Kind.PASSWORD_RESET,
                actor=None,
                subject=user.id,
                address=address,
                external_only_before=not had_password,
                revoked_sessions=revoked,
            )
            ended = await self._tokens.record(session, user.id)
        await self._tokens.announce(ended)
        # the owner, locked out on this device by wrong guesses, may sign in with the new one
        await self._throttle.succeeded(f"{user.email}\n{address or ''}")

    async def set_roles(
        self,
        principal: Principal,
        user_id: uuid.UUID,
        roles: frozenset[Role],
        address: str | None = None,
    ) -> UserRow:
        if "users:write" not in principal.scopes:
            raise Forbidden("Only administrators can change roles.")
        if not roles:
            raise BadUserInput("roles must name at least one role.", field="roles")
        if user_id == principal.user_id and Role.ADMIN not in roles:
            raise BadUserInput("You cannot remove your own ADMIN role.", field="roles")
        async with self.sessions.begin() as session:
            user = await self._locked(session, user_id)
            old_roles = sorted(user.roles)
            user.roles = sorted(role.value for role in roles)
            user.updated_at = clock.now()
            await self._announce_update(session, user.id)
            await self._revoke(session, RefreshTokenRow.user_id == user.id)
            audit.record(
                session,
                Kind.ROLES_CHANGED,
                actor=principal.user_id,
                subject=user.id,
                address=address,
                old_roles=old_roles,
                new_roles=user.roles,
            )
            # tokens carry roles: the old ones must not count
            ended = await self._tokens.record(session, user_id)
        await self._tokens.announce(ended)
        return user

    @staticmethod
    async def _announce_update(session: AsyncSession, user_id: uuid.UUID) -> None:
        """The profile others see changed: `user.updated`, in the change's transaction."""
        await emit(
            session, EVENTS.outbox, Event("user.updated", {"user_id": str(user_id)}, "users")
        )

    async def delete(
        self, principal: Principal, user_id: uuid.UUID, address: str | None = None
    ) -> uuid.UUID:
        if not principal.is_self_or_admin(user_id):
            raise Forbidden("You can only delete your own account.")
        async with self.sessions.begin() as session:
            result = await session.execute(delete(UserRow).where(UserRow.id == user_id))
            if not getattr(result, "rowcount", 0):
                raise NotFound(f"No user has id {user_id}.", field="userId")
            # The trail stays, by id; where the deleted person connected from does not.
            await audit.forget_addresses(session, user_id)
            audit.record(
                session,
                Kind.USER_DELETED,
                actor=principal.user_id,
                subject=user_id,
                address=None if principal.user_id == user_id else address,
            )
            # Every other domain erases or anonymises what it holds about the user.
            await emit(
                session, EVENTS.outbox, Event("user.deleted", {"user_id": str(user_id)}, "users")
            )
            ended = await self._tokens.record(session, user_id)
        await self._tokens.announce(ended)
        return user_id

    # The security audit log

    async def security_events(
        self, principal: Principal, criteria: EventFilter, *, first: int | None, after: str | None
    ) -> Page[SecurityEventRow]:
        if not principal.is_admin:
            raise Forbidden("Only administrators can read the security audit log.")
        query = audit.events_query(criteria)
        async with self.sessions() as session:
            return await fetch_ordered_page(
                session,
                query,
                key=SecurityEventRow.occurred_at,
                key_name="occurred_at",
                row_id=SecurityEventRow.id,
                descending=True,
                first=first,
                after=after,
            )

    async def _locked(self, session: AsyncSession, user_id: uuid.UUID) -> UserRow:
        user = await session.get(UserRow, user_id, with_for_update=True)
        if user is None:
            raise NotFound(f"No user has id {user_id}.", field="userId")
        return user

    # Batch loading for DataLoaders

    async def by_ids(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, UserRow]:
        return await rows_by_id(self.sessions, UserRow, ids)

    async def external_identities(
        self, ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[ExternalIdentityRow]]:
        async with self.sessions() as session:
            return await identities_of(session, ids)


@dataclass(frozen=True, slots=True)
class SecondFactorDue:
    """The first factor passed and the account has a second: a challenge was opened."""

    mfa_token: str


def _tokens_or_challenge(outcome: AuthResult | SecondFactorDue) -> AuthResult:
    if isinstance(outcome, SecondFactorDue):
        raise MfaRequired(outcome.mfa_token, int(CHALLENGE_TTL.total_seconds()))
    return outcome


def _challenge_problem(challenge: MfaChallengeRow | None) -> str | None:
    if challenge is None:
        return MFA_TOKEN_UNKNOWN
    if challenge.used_at is not None:
        return MFA_TOKEN_USED
    if challenge.expires_at <= clock.now():
        return MFA_TOKEN_EXPIRED
    return None


def _filtered(query: Select[UserRow], criteria: UserFilter) -> Select[UserRow]:
    if criteria.role is not None:
        query = query.where(UserRow.roles.contains([criteria.role.value]))
    if criteria.search:
        pattern = (
            "%"
            + criteria.search.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
            + "%"
        )
        query = query.where(UserRow.name.ilike(pattern) | UserRow.email.ilike(pattern))
    if criteria.created_after is not None:
        query = query.where(UserRow.created_at >= criteria.created_after)
    if criteria.created_before is not None:
        query = query.where(UserRow.created_at < criteria.created_before)
    return query
