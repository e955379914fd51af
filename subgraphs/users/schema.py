"""GraphQL surface of the users subgraph: thin resolvers over UsersService."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, TypeAlias

import strawberry
from strawberry.types import Info

from common.auth import Role as RoleValue
from common.errors import Forbidden
from common.graphql.context import RequestContext
from common.graphql.ids import parse_id
from common.graphql.relay import Connection
from common.graphql.schema import ServiceSchema
from subgraphs.users.loaders import UsersLoaders
from subgraphs.users.models import UserRow
from subgraphs.users.service import AuthResult, ProfileChanges, UserFilter, UsersService

UsersInfo: TypeAlias = Info[RequestContext[UsersService, UsersLoaders], None]

Role = strawberry.enum(RoleValue, name="Role", description="What a user may do on the platform.")


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


@strawberry.federation.type(keys=["id"], description="A person using the platform.")
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

    @strawberry.field(description="Visible to the user themself and to administrators.")
    def email(self, info: UsersInfo) -> str:
        self._check_private(info)
        return self.row.email

    @strawberry.field(description="Visible to the user themself and to administrators.")
    def preferences(self, info: UsersInfo) -> Preferences:
        self._check_private(info)
        stored = self.row.preferences
        return Preferences(
            theme=Theme(stored.get("theme", Theme.SYSTEM.value)),
            marketing_emails=bool(stored.get("marketing_emails", False)),
            reduced_motion=bool(stored.get("reduced_motion", False)),
        )

    def _check_private(self, info: UsersInfo) -> None:
        if self.signing_in:
            return
        if not info.context.require_principal().is_self_or_admin(self.row.id):
            raise Forbidden("Only this user and administrators can see this field.")

    @classmethod
    async def resolve_reference(cls, info: UsersInfo, id: strawberry.ID) -> User | None:
        row = await info.context.loaders.user.load(parse_id(id))
        return None if row is None else user_of(row)


def user_of(row: UserRow, *, signing_in: bool = False) -> User:
    return User(
        id=strawberry.ID(str(row.id)),
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
class Query:
    @strawberry.field(description="The signed-in user.")
    async def me(self, info: UsersInfo) -> User:
        context = info.context
        return user_of(await context.service.me(context.require_principal()))

    @strawberry.field(description="A user's public profile.")
    async def user(self, info: UsersInfo, id: strawberry.ID) -> User:
        context = info.context
        return user_of(await context.service.get(context.require_principal(), parse_id(id)))

    @strawberry.field(description="Every user, oldest first (administrators only).")
    async def users(
        self,
        info: UsersInfo,
        first: int | None = None,
        after: str | None = None,
        filter: UserFilterInput | None = None,
    ) -> Connection[User]:
        context = info.context
        criteria = filter or UserFilterInput()
        page = await context.service.list(
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


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a student account and sign in.")
    async def register(self, info: UsersInfo, input: RegisterInput) -> AuthPayload:
        service = info.context.service
        return auth_payload(await service.register(input.email, input.password, input.name))

    @strawberry.mutation(description="Sign in: a short-lived access token and a refresh token.")
    async def login(self, info: UsersInfo, input: LoginInput) -> AuthPayload:
        context = info.context
        result = await context.service.login(input.email, input.password, context.client_address)
        return auth_payload(result)

    @strawberry.mutation(description="Trade a refresh token for new tokens (it is used up).")
    async def refresh_token(self, info: UsersInfo, input: RefreshTokenInput) -> AuthPayload:
        return auth_payload(await info.context.service.refresh(input.refresh_token))

    @strawberry.mutation(description="Revoke this session, or every session of the user.")
    async def logout(self, info: UsersInfo, input: LogoutInput) -> LogoutPayload:
        revoked = await info.context.service.logout(
            input.refresh_token, all_sessions=input.all_sessions
        )
        return LogoutPayload(revoked_sessions=revoked)

    @strawberry.mutation(description="Change profile fields; omitted fields stay as they are.")
    async def update_profile(self, info: UsersInfo, input: UpdateProfileInput) -> UserPayload:
        context = info.context
        principal = context.require_principal()
        user_id = parse_id(input.user_id, field="userId") if input.user_id else principal.user_id
        changes = _set_fields(input)
        if isinstance(input.preferences, PreferencesInput):
            changes["preferences"] = _set_fields(input.preferences)
        row = await context.service.update_profile(principal, user_id, ProfileChanges(changes))
        return UserPayload(user=user_of(row))

    @strawberry.mutation(description="Change your password; signs out every session.")
    async def change_password(
        self,
        info: UsersInfo,
        input: ChangePasswordInput,
    ) -> ChangePasswordPayload:
        context = info.context
        await context.service.change_password(
            context.require_principal(), input.current_password, input.new_password
        )
        return ChangePasswordPayload(success=True)

    @strawberry.mutation(description="Set a user's roles (administrators only).")
    async def set_user_roles(self, info: UsersInfo, input: SetUserRolesInput) -> UserPayload:
        context = info.context
        roles = frozenset(RoleValue(role) for role in input.roles)
        row = await context.service.set_roles(
            context.require_principal(), parse_id(input.user_id, field="userId"), roles
        )
        return UserPayload(user=user_of(row))

    @strawberry.mutation(description="Delete an account and all its data (self or admin).")
    async def delete_user(self, info: UsersInfo, input: DeleteUserInput) -> DeleteUserPayload:
        context = info.context
        principal = context.require_principal()
        user_id = parse_id(input.user_id, field="userId") if input.user_id else principal.user_id
        deleted = await context.service.delete(principal, user_id)
        return DeleteUserPayload(deleted_user_id=strawberry.ID(str(deleted)))


schema = ServiceSchema(query=Query, mutation=Mutation, types=[User])
