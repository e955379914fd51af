"""API keys for integrations: made by administrators, scoped, stored hashed, revocable.

A key is ``lms_`` and 43 random URL-safe characters, shown once when it is made; the table
holds its SHA-256 (the key has 256 bits of entropy, so a fast hash is as good as a slow one)
and its first characters, to tell keys apart in listings. A key acts for the administrator
who made it, limited to the scopes it was given, which must be scopes that administrator
holds. The router trades a key for a short-lived access token at `/auth/api-key-token`
(see `exchange`), so the subgraphs only ever see ordinary, verifiable access tokens.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import clock
from common.auth import Principal, TokenIssuer
from common.auth.principal import ROLE_SCOPES
from common.auth.throttle import Throttle
from common.db.pagination import Page, fetch_page
from common.errors import BadUserInput, Forbidden, NotFound, Unauthenticated
from subgraphs.users.audit import SecurityEventKind, record, record_repeated
from subgraphs.users.models import ApiKeyRow, UserRow, roles_of
from subgraphs.users.passwords import digest

KEY_PREFIX = "lms_"
SHOWN_PREFIX = 12  # "lms_" and 8 characters
TOKEN_TTL_SECONDS = 300
LAST_USED_RESOLUTION = timedelta(minutes=1)
KNOWN_SCOPES = frozenset().union(*ROLE_SCOPES.values())
INVALID_KEY = "The API key is not valid."


@dataclass(frozen=True, slots=True)
class NewApiKey:
    row: ApiKeyRow
    key: str  # the only time it exists in clear


@dataclass(frozen=True, slots=True)
class ExchangedToken:
    access_token: str
    expires_in: int


def _admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("Only administrators manage API keys.")


def _name(value: str) -> str:
    name = " ".join(value.split())
    if not 1 <= len(name) <= 100:
        raise BadUserInput("Give the key a name of 1 to 100 characters.", field="name")
    return name


def _scopes(requested: list[str], principal: Principal) -> list[str]:
    scopes = sorted(set(requested))
    if not scopes:
        raise BadUserInput("Grant the key at least one scope.", field="scopes")
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if unknown:
        raise BadUserInput(f"Unknown scopes: {', '.join(unknown)}.", field="scopes")
    beyond = [s for s in scopes if s not in principal.scopes]
    if beyond:
        raise BadUserInput(
            f"A key cannot have scopes you do not hold: {', '.join(beyond)}.", field="scopes"
        )
    return scopes


class ApiKeysService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], issuer: TokenIssuer, throttle: Throttle
    ) -> None:
        self.sessions = sessions
        self._issuer = issuer
        self._throttle = throttle  # refused keys, per client address

    async def create(
        self,
        principal: Principal,
        name: str,
        scopes: list[str],
        expires_at: datetime | None,
        address: str | None,
    ) -> NewApiKey:
        _admin(principal)
        if expires_at is not None and (expires_at.tzinfo is None or expires_at <= clock.now()):
            raise BadUserInput(
                "The expiry must be a future time with its time zone.", field="expiresAt"
            )
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        row = ApiKeyRow(
            id=uuid.uuid4(),
            owner_id=principal.user_id,
            name=_name(name),
            prefix=key[:SHOWN_PREFIX],
            key_hash=digest(key),
            scopes=_scopes(scopes, principal),
            created_at=clock.now(),
            expires_at=expires_at,
        )
        async with self.sessions.begin() as session:
            session.add(row)
            record(
                session,
                SecurityEventKind.API_KEY_CREATED,
                actor=principal.user_id,
                subject=principal.user_id,
                address=address,
                api_key_id=str(row.id),
                name=row.name,
                scopes=row.scopes,
            )
        return NewApiKey(row, key)

    async def revoke(
        self, principal: Principal, key_id: uuid.UUID, address: str | None
    ) -> ApiKeyRow:
        _admin(principal)
        async with self.sessions.begin() as session:
            row = await session.get(ApiKeyRow, key_id, with_for_update=True)
            if row is None:
                raise NotFound("No API key has this id.", field="id")
            if row.revoked_at is None:
                row.revoked_at = clock.now()
                record(
                    session,
                    SecurityEventKind.API_KEY_REVOKED,
                    actor=principal.user_id,
                    subject=row.owner_id,
                    address=address,
                    api_key_id=str(row.id),
                )
            return row

    async def page(
        self, principal: Principal, first: int | None, after: str | None
    ) -> Page[ApiKeyRow]:
        _admin(principal)
        query: Select[ApiKeyRow] = select(ApiKeyRow)
        async with self.sessions() as session:
            return await fetch_page(
                session,
                query,
                created_at=ApiKeyRow.created_at,
                row_id=ApiKeyRow.id,
                first=first,
                after=after,
            )

    async def exchange(self, key: str, address: str | None) -> ExchangedToken:
        """An access token for a valid key; a refusal never says which check failed. Refused
        keys count per client address towards a lockout (RATE_LIMITED, keys not even
        checked), and in the audit log as one API_KEY_REFUSED row per address and key owner
        with a count."""
        await self._throttle.check(None, address)
        if not key.startswith(KEY_PREFIX) or len(key) > 200:
            await self._throttle.failed(None, address)
            raise Unauthenticated(INVALID_KEY)
        token = None
        async with self.sessions.begin() as session:
            row = await session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == digest(key)))
            owner = await _owner_if_usable(session, row)
            if row is None or owner is None:
                await record_repeated(
                    session,
                    SecurityEventKind.API_KEY_REFUSED,
                    subject=row.owner_id if row is not None else None,
                    address=address,
                    api_key_id=str(row.id) if row is not None else None,
                )
            else:
                now = clock.now()
                if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
                    row.last_used_at = now
                record(
                    session,
                    SecurityEventKind.API_KEY_USED,
                    actor=owner.id,
                    subject=owner.id,
                    address=address,
                    api_key_id=str(row.id),
                )
                token = self._issuer.issue(
                    owner.id,
                    roles_of(owner),
                    scopes=frozenset(row.scopes),  # narrowed to what the owner holds now
                    ttl_seconds=TOKEN_TTL_SECONDS,
                    api_key=row.id,
                )
        if token is None:  # the refusal is recorded (committed) first
            await self._throttle.failed(None, address)
            raise Unauthenticated(INVALID_KEY)
        return ExchangedToken(token, TOKEN_TTL_SECONDS)


async def _owner_if_usable(session: AsyncSession, row: ApiKeyRow | None) -> UserRow | None:
    """The key's owner, when the key is neither revoked nor expired (and the owner exists)."""
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= clock.now():
        return None
    return await session.get(UserRow, row.owner_id)
