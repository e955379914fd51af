"""Tables of the users subgraph, all in schema "users"."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Double,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.auth import Role
from common.db import schema_metadata
from common.events.tables import event_tables

SCHEMA = "users"


class Base(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


EVENTS = event_tables(Base.metadata)  # outbox and inbox: see common/events


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # None: the account signs in only through an external provider (external_identities)
    password_hash: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(100))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    bio: Mapped[str | None] = mapped_column(Text)
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    locale: Mapped[str] = mapped_column(String(35), server_default="en")
    timezone: Mapped[str] = mapped_column(String(64), server_default="UTC")
    preferences: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # when the owner proved they read mail at `email` (subgraphs/users/email_links.py)
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # an address the owner asked to change to: `email` until a link sent there is opened
    pending_email: Mapped[str | None] = mapped_column(String(254))

    __table_args__ = (Index("ix_users_created_at_id", "created_at", "id"),)


def roles_of(row: UserRow) -> frozenset[Role]:
    return frozenset(Role(role) for role in row.roles)


class RefreshTokenRow(Base):
    """One opaque refresh token, stored as its SHA-256; a login starts a family of rotations."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.users.id", ondelete="CASCADE"), index=True
    )
    family_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SessionRow(Base):
    """A sign-in session: one refresh-token family (its id is the family's, and the ``sid``
    of its access tokens), with the device it was last used from. Ended by signing out or
    `revokeSession`; its end, for as long as its access tokens live, is a revocation
    (subgraphs/users/revocations.py)."""

    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.users.id", ondelete="CASCADE")
    )
    user_agent: Mapped[str | None] = mapped_column(String(512))
    client_address: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)

    __table_args__ = (Index("ix_sessions_user_id_created_at_id", "user_id", "created_at", "id"),)


class TokenRevocationRow(Base):
    """The last moment a user's sessions were ended: their access tokens issued before it
    are refused until `expires_at`, when every one of them has expired anyway (no foreign
    key: it outlives a deleted account). Redis carries it to the verifiers
    (subgraphs/users/revocations.py)."""

    __tablename__ = "token_revocations"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    not_before: Mapped[float] = mapped_column(Double)  # seconds since the epoch, as `iat`
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class TotpFactorRow(Base):
    """A user's authenticator app: pending until a first code confirms it, then enabled."""

    __tablename__ = "totp_factors"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.users.id", ondelete="CASCADE"), primary_key=True
    )
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)  # see subgraphs/users/sealing.py
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last time step whose code was accepted: that step and earlier ones are refused.
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCodeRow(Base):
    """A single-use recovery code, stored as the SHA-256 of the user id and the code."""

    __tablename__ = "recovery_codes"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.users.id", ondelete="CASCADE")
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)


class MfaChallengeRow(Base):
    """The second step of a sign-in: an opaque token, stored as its SHA-256, used once."""

    __tablename__ = "mfa_challenges"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SecurityEventRow(Base):
    """One entry of the security audit log (subgraphs/users/audit.py).

    No foreign keys: the trail outlives the accounts it names, holding only their ids.
    """

    __tablename__ = "security_events"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(60))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    subject_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    client_address: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")

    __table_args__ = (Index("ix_security_events_occurred_at_id", "occurred_at", "id"),)


class ApiKeyRow(Base):
    """A key an integration presents at the router; stored as its SHA-256, shown once.

    It acts for its owner (the administrator who made it), limited to its scopes.
    """

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_api_keys_created_at_id", "created_at", "id"),)


class ExternalIdentityRow(Base):
    """An account at an external OpenID provider linked to a user: who the provider says
    signed in (issuer and subject, never the email, which can change hands) is this user."""

    __tablename__ = "external_identities"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.users.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(32))
    issuer: Mapped[str] = mapped_column(String(2048))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254))  # as the provider last told it
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("issuer", "subject"),)


class EmailTokenRow(Base):
    """A link e-mailed to prove control of an address: to verify it, or to reset the
    password. The token is stored as its SHA-256, works once, until `expires_at`, and only
    while it is the user's latest of its purpose and `email` is still the address it proves
    (the account's, or for verification also the pending one)."""

    __tablename__ = "email_tokens"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(20))  # "verify_email" or "reset_password"
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DataExportRow(Base):
    """A personal data export (GDPR art. 15/20; subgraphs/users/data_exports.py): REQUESTED
    until every subgraph's part is in, then READY with its zip archive until `expires_at`,
    or FAILED. At most one REQUESTED per user."""

    __tablename__ = "data_exports"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.users.id", ondelete="CASCADE"), index=True
    )
    requested_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(String(10))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ready_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    failure: Mapped[str | None] = mapped_column(Text)
    archive: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index(
            "uq_data_exports_requested",
            "user_id",
            unique=True,
            postgresql_where=text("status = 'REQUESTED'"),
        ),
    )


class DataExportPartRow(Base):
    """One subgraph's part of an export, kept until the archive is assembled."""

    __tablename__ = "data_export_parts"

    export_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("users.data_exports.id", ondelete="CASCADE"),
        primary_key=True,
    )
    part: Mapped[str] = mapped_column(String(20), primary_key=True)
    content: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
