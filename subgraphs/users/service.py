"""Use cases of the users domain: each validates, authorizes and runs in one transaction."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.auth import Principal, Role, TokenIssuer
from common.auth.throttle import SignInThrottle
from common.db.pagination import Page, fetch_page
from common.errors import BadUserInput, Conflict, Forbidden, NotFound, Unauthenticated
from common.events.envelope import Event
from common.events.outbox import emit
from subgraphs.users import validation
from subgraphs.users.models import EVENTS, RefreshTokenRow, UserRow
from subgraphs.users.passwords import hash_password, verify_password

INVALID_CREDENTIALS = "Invalid email or password."
REUSED_REFRESH = "This refresh token was already used; every session it started is revoked."


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


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def roles_of(row: UserRow) -> frozenset[Role]:
    return frozenset(Role(role) for role in row.roles)


class UsersService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        issuer: TokenIssuer,
        *,
        refresh_ttl_seconds: int,
        throttle: SignInThrottle,
    ) -> None:
        self.sessions = sessions
        self._issuer = issuer
        self._refresh_ttl = timedelta(seconds=refresh_ttl_seconds)
        self._throttle = throttle

    # Sign-up, sign-in and sessions

    async def register(self, email: str, password: str, name: str) -> AuthResult:
        address = validation.email(email)
        validation.password(password, email_address=address)
        now = _now()
        user = UserRow(
            id=uuid.uuid4(),
            email=address,
            password_hash=await hash_password(password),
            name=validation.name(name),
            roles=[Role.STUDENT.value],
            preferences={},
            locale="en",
            created_at=now,
            updated_at=now,
        )
        try:
            async with self.sessions.begin() as session:
                session.add(user)
                await session.flush()
                await emit(
                    session,
                    EVENTS.outbox,
                    Event(
                        "user.registered",
                        {"user_id": str(user.id), "name": user.name, "locale": user.locale},
                        "users",
                    ),
                )
                return await self._start_session(session, user, family_id=uuid.uuid4())
        except IntegrityError:
            raise Conflict("An account with this email already exists.", field="email") from None

    async def login(self, email: str, password: str, address: str | None = None) -> AuthResult:
        await self._throttle.check(email, address)
        async with self.sessions() as session:
            user = await session.scalar(
                select(UserRow).where(UserRow.email == email.strip().lower())
            )
        valid = await verify_password(user.password_hash if user else None, password)
        if user is None or not valid:
            await self._throttle.failed(email, address)
            raise Unauthenticated(INVALID_CREDENTIALS)
        await self._throttle.succeeded(email)
        async with self.sessions.begin() as session:
            return await self._start_session(session, user, family_id=uuid.uuid4())

    async def refresh(self, refresh_token: str) -> AuthResult:
        async with self.sessions.begin() as session:
            row = await session.scalar(
                select(RefreshTokenRow)
                .where(RefreshTokenRow.token_hash == _token_hash(refresh_token))
                .with_for_update()
            )
            if row is None:
                raise Unauthenticated("The refresh token is not valid.")
            if row.used_at is None and row.revoked_at is None:
                if row.expires_at <= _now():
                    raise Unauthenticated("The refresh token has expired; sign in again.")
                row.used_at = _now()
                user = await session.get_one(UserRow, row.user_id)
                return await self._start_session(session, user, family_id=row.family_id)
            await self._revoke(session, RefreshTokenRow.family_id == row.family_id)
        raise Unauthenticated(REUSED_REFRESH)

    async def logout(self, refresh_token: str, *, all_sessions: bool) -> int:
        async with self.sessions.begin() as session:
            row = await session.scalar(
                select(RefreshTokenRow).where(
                    RefreshTokenRow.token_hash == _token_hash(refresh_token)
                )
            )
            if row is None:
                raise Unauthenticated("The refresh token is not valid.")
            scope = (
                RefreshTokenRow.user_id == row.user_id
                if all_sessions
                else RefreshTokenRow.family_id == row.family_id
            )
            return await self._revoke(session, scope)

    async def _start_session(
        self, session: AsyncSession, user: UserRow, *, family_id: uuid.UUID
    ) -> AuthResult:
        refresh_token = secrets.token_urlsafe(32)
        session.add(
            RefreshTokenRow(
                id=uuid.uuid4(),
                user_id=user.id,
                family_id=family_id,
                token_hash=_token_hash(refresh_token),
                expires_at=_now() + self._refresh_ttl,
            )
        )
        return AuthResult(
            user=user,
            access_token=self._issuer.issue(user.id, roles_of(user)),
            refresh_token=refresh_token,
            expires_in=self._issuer.ttl_seconds,
        )

    async def _revoke(self, session: AsyncSession, scope: Any) -> int:
        result = await session.execute(
            update(RefreshTokenRow)
            .where(scope, RefreshTokenRow.revoked_at.is_(None))
            .values(revoked_at=_now())
        )
        return int(getattr(result, "rowcount", 0) or 0)

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

    async def list(
        self, principal: Principal, criteria: UserFilter, *, first: int | None, after: str | None
    ) -> Page[UserRow]:
        if not principal.is_admin:
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
            user.updated_at = _now()
            return user

    async def change_password(self, principal: Principal, current: str, new: str) -> None:
        async with self.sessions.begin() as session:
            user = await self._locked(session, principal.user_id)
            if not await verify_password(user.password_hash, current):
                raise BadUserInput("currentPassword is not your password.", field="currentPassword")
            validation.password(new, field="newPassword", email_address=user.email)
            user.password_hash = await hash_password(new)
            user.updated_at = _now()
            await self._revoke(session, RefreshTokenRow.user_id == user.id)

    async def set_roles(
        self, principal: Principal, user_id: uuid.UUID, roles: frozenset[Role]
    ) -> UserRow:
        if not principal.is_admin:
            raise Forbidden("Only administrators can change roles.")
        if not roles:
            raise BadUserInput("roles must name at least one role.", field="roles")
        if user_id == principal.user_id and Role.ADMIN not in roles:
            raise BadUserInput("You cannot remove your own ADMIN role.", field="roles")
        async with self.sessions.begin() as session:
            user = await self._locked(session, user_id)
            user.roles = sorted(role.value for role in roles)
            user.updated_at = _now()
            await self._revoke(session, RefreshTokenRow.user_id == user.id)
            return user

    async def delete(self, principal: Principal, user_id: uuid.UUID) -> uuid.UUID:
        if not principal.is_self_or_admin(user_id):
            raise Forbidden("You can only delete your own account.")
        async with self.sessions.begin() as session:
            result = await session.execute(delete(UserRow).where(UserRow.id == user_id))
            if not getattr(result, "rowcount", 0):
                raise NotFound(f"No user has id {user_id}.", field="userId")
            # Every other domain erases or anonymises what it holds about the user.
            await emit(
                session, EVENTS.outbox, Event("user.deleted", {"user_id": str(user_id)}, "users")
            )
        return user_id

    async def _locked(self, session: AsyncSession, user_id: uuid.UUID) -> UserRow:
        user = await session.get(UserRow, user_id, with_for_update=True)
        if user is None:
            raise NotFound(f"No user has id {user_id}.", field="userId")
        return user

    # Batch loading for DataLoaders

    async def by_ids(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, UserRow]:
        async with self.sessions() as session:
            rows = await session.scalars(select(UserRow).where(UserRow.id.in_(ids)))
            return {row.id: row for row in rows}


def _filtered(query: Select[tuple[UserRow]], criteria: UserFilter) -> Select[tuple[UserRow]]:
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
