"""Personal data exports (GDPR art. 15/20): request, assembly, download and expiry.

A request writes a REQUESTED row and `user.export_requested`; every subgraph answers with
its part (`common/data_exports.py`); the last part to arrive assembles the zip (one JSON
file per subgraph and a manifest), stores it here (bytea), marks the export READY until
`LMS_DATA_EXPORT_TTL` and emits `user.export_ready` (notifications tells the user). A part
that could not be sent, or parts missing after `LMS_DATA_EXPORT_TIMEOUT`, make it FAILED.
The users worker sweeps: late exports fail, expired ones are deleted. Deleting the user
deletes their exports (foreign key).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import undefer

from common import clock
from common.auth import Principal
from common.data_exports import FORMAT_VERSION, PARTS, Sections
from common.db.batches import rows_grouped
from common.errors import Conflict, Forbidden, NotFound, RateLimited
from common.events.envelope import Event
from common.events.outbox import emit
from common.settings import Settings
from common.signed_links import link_problem, signed_query
from subgraphs.users import audit
from subgraphs.users.audit import SecurityEventKind as Kind
from subgraphs.users.models import (
    EVENTS,
    ApiKeyRow,
    DataExportPartRow,
    DataExportRow,
    ExternalIdentityRow,
    SecurityEventRow,
    SessionRow,
    UserRow,
)

PURPOSE: Final = "data-export"
DAY: Final = timedelta(days=1)


class ExportStatus(StrEnum):
    REQUESTED = "REQUESTED"
    READY = "READY"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"  # READY, past its expiry, not yet deleted


def status_of(row: DataExportRow, now: datetime) -> ExportStatus:
    if row.status == ExportStatus.READY and row.expires_at <= now:
        return ExportStatus.EXPIRED
    return ExportStatus(row.status)


def user_sections(user_id: uuid.UUID) -> Sections:
    """The users subgraph's part: the account without its secrets (no password hash, no
    MFA secret or codes, no token or key hashes)."""
    return {
        "account": select(
            UserRow.id,
            UserRow.email,
            UserRow.email_verified_at,
            UserRow.pending_email,
            UserRow.name,
            UserRow.roles,
            UserRow.bio,
            UserRow.avatar_url,
            UserRow.locale,
            UserRow.timezone,
            UserRow.preferences,
            UserRow.created_at,
            UserRow.updated_at,
        ).where(UserRow.id == user_id),
        "linked_identities": select(
            ExternalIdentityRow.provider,
            ExternalIdentityRow.issuer,
            ExternalIdentityRow.subject,
            ExternalIdentityRow.email,
            ExternalIdentityRow.linked_at,
            ExternalIdentityRow.last_sign_in_at,
        ).where(ExternalIdentityRow.user_id == user_id),
        "api_keys": select(
            ApiKeyRow.name,
            ApiKeyRow.prefix,
            ApiKeyRow.scopes,
            ApiKeyRow.created_at,
            ApiKeyRow.expires_at,
            ApiKeyRow.revoked_at,
            ApiKeyRow.last_used_at,
        ).where(ApiKeyRow.owner_id == user_id),
        "sessions": select(
            SessionRow.id,
            SessionRow.user_agent,
            SessionRow.client_address,
            SessionRow.created_at,
            SessionRow.last_used_at,
            SessionRow.expires_at,
            SessionRow.ended_at,
        )
        .where(SessionRow.user_id == user_id)
        .order_by(SessionRow.created_at),
        "security_events": select(
            SecurityEventRow.occurred_at,
            SecurityEventRow.kind,
            SecurityEventRow.client_address,
            SecurityEventRow.details,
        )
        .where(SecurityEventRow.subject_id == user_id)
        .order_by(SecurityEventRow.occurred_at),
    }


@dataclass(frozen=True, slots=True)
class ExportLimits:
    ttl: timedelta
    timeout: timedelta
    per_day: int
    max_part_bytes: int
    link_seconds: int
    sweep_seconds: int

    @classmethod
    def of(cls, settings: Settings) -> ExportLimits:
        return cls(
            ttl=timedelta(seconds=settings.data_export_ttl),
            timeout=timedelta(seconds=settings.data_export_timeout),
            per_day=settings.data_exports_per_day,
            max_part_bytes=settings.data_export_max_part_bytes,
            link_seconds=settings.data_export_link_seconds,
            sweep_seconds=settings.data_export_sweep_seconds,
        )


@dataclass(frozen=True, slots=True)
class LinkRefused:
    status: int
    message: str


@dataclass(frozen=True, slots=True)
class Download:
    filename: str
    archive: bytes
    sha256: str


def build_archive(row: DataExportRow, parts: dict[str, str], now: datetime) -> bytes:
    """The zip: `<subgraph>.json` for each part and `manifest.json` describing them."""
    buffer = io.BytesIO()
    files: dict[str, dict[str, Any]] = {}
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in PARTS:
            content = parts[name].encode()
            archive.writestr(f"{name}.json", content)
            files[f"{name}.json"] = {
                "subgraph": name,
                "bytes": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
            }
        manifest = {
            "format_version": FORMAT_VERSION,
            "export_id": str(row.id),
            "user_id": str(row.user_id),
            "requested_at": row.requested_at.isoformat(),
            "generated_at": now.isoformat(),
            "files": files,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=1, sort_keys=True))
    return buffer.getvalue()


class DataExports:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessions = sessions
        self.limits = ExportLimits.of(settings)
        self.secret = settings.secret("data_export_secret")
        self.base_url = settings.public_service_url("users")

    async def request(
        self, principal: Principal, user_id: uuid.UUID, address: str | None = None
    ) -> DataExportRow:
        """A new export of `user_id`'s data: the user themself, or an administrator."""
        if not principal.is_self_or_admin(user_id):
            raise Forbidden("You can only export your own data.")
        now = clock.now()
        row = DataExportRow(
            id=uuid.uuid4(),
            user_id=user_id,
            requested_by=principal.user_id,
            status=ExportStatus.REQUESTED.value,
            requested_at=now,
            expires_at=now + self.limits.timeout,  # the deadline for every part
        )
        try:
            async with self.sessions.begin() as session:
                if await session.get(UserRow, user_id, with_for_update=True) is None:
                    raise NotFound(f"No user has id {user_id}.", field="userId")
                recent = await session.scalar(
                    select(func.count())
                    .select_from(DataExportRow)
                    .where(DataExportRow.user_id == user_id, DataExportRow.requested_at > now - DAY)
                )
                if (recent or 0) >= self.limits.per_day:
                    raise RateLimited(
                        f"At most {self.limits.per_day} data exports a day; try again tomorrow."
                    )
                session.add(row)
                await session.flush()
                audit.record(
                    session,
                    Kind.DATA_EXPORT_REQUESTED,
                    actor=principal.user_id,
                    subject=user_id,
                    address=address,
                    export_id=str(row.id),
                )
                await emit(
                    session,
                    EVENTS.outbox,
                    Event(
                        "user.export_requested",
                        {
                            "export_id": str(row.id),
                            "user_id": str(user_id),
                            "max_part_bytes": self.limits.max_part_bytes,
                        },
                        "users",
                    ),
                )
        except IntegrityError:  # uq_data_exports_requested: one pending export per user
            raise Conflict(
                "A data export of this account is already being prepared; wait for it."
            ) from None
        return row

    async def of_users(self, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[DataExportRow]]:
        """Each user's exports, newest first (for a DataLoader; the field checks access)."""
        return await rows_grouped(
            self.sessions,
            DataExportRow,
            DataExportRow.user_id,
            user_ids,
            DataExportRow.requested_at.desc(),
            DataExportRow.id,
        )

    def download_url(self, row: DataExportRow, now: datetime) -> str | None:
        """A signed link for LMS_DATA_EXPORT_LINK_SECONDS (never past the export's expiry);
        None unless the export is ready."""
        if status_of(row, now) != ExportStatus.READY:
            return None
        expires = int(min(now.timestamp() + self.limits.link_seconds, row.expires_at.timestamp()))
        query = signed_query(self.secret, PURPOSE, str(row.id), expires)
        return f"{self.base_url}/exports/{row.id}.zip?{query}"

    async def download(
        self, export_id: uuid.UUID, expires: str, signature: str
    ) -> Download | LinkRefused:
        """The archive a link opens, or why it does not."""
        problem = link_problem(self.secret, PURPOSE, str(export_id), expires, signature)
        if problem is not None:
            return LinkRefused(403, problem)
        async with self.sessions() as session:
            row = await session.scalar(
                select(DataExportRow)
                .options(undefer(DataExportRow.archive))
                .where(DataExportRow.id == export_id)
            )
        if row is None or row.archive is None or status_of(row, clock.now()) != ExportStatus.READY:
            return LinkRefused(404, "This data export no longer exists.")
        day = row.requested_at.date().isoformat()
        return Download(
            f"data-export-{day}-{row.id}.zip", row.archive, hashlib.sha256(row.archive).hexdigest()
        )

    # The worker's side

    async def receive_part(self, session: AsyncSession, event: Event) -> None:
        """Store one subgraph's part; the last one in assembles the archive. Parts for an
        export that is gone, failed or complete are dropped."""
        export_id = uuid.UUID(event.data["export_id"])
        row = await session.get(DataExportRow, export_id, with_for_update=True)
        if row is None or row.status != ExportStatus.REQUESTED:
            return
        part, error = str(event.data["part"]), event.data.get("error")
        if part not in PARTS:
            return
        now = clock.now()
        if error is not None:
            await self._fail(session, row, f"{error}.", now)
            return
        await session.execute(
            insert(DataExportPartRow)
            .values(export_id=export_id, part=part, content=event.data["content"])
            .on_conflict_do_nothing()
        )
        rows = await session.execute(
            select(DataExportPartRow.part, DataExportPartRow.content).where(
                DataExportPartRow.export_id == export_id
            )
        )
        parts = {name: content or "" for name, content in rows}
        if set(parts) != set(PARTS):
            return
        archive = build_archive(row, parts, now)
        row.archive = archive
        row.size_bytes = len(archive)
        row.status = ExportStatus.READY.value
        row.ready_at = now
        row.expires_at = now + self.limits.ttl
        await session.execute(
            delete(DataExportPartRow).where(DataExportPartRow.export_id == export_id)
        )
        await emit(
            session,
            EVENTS.outbox,
            Event(
                "user.export_ready",
                {"export_id": str(export_id), "user_id": str(row.user_id)},
                "users",
            ),
        )

    async def _fail(
        self, session: AsyncSession, row: DataExportRow, reason: str, now: datetime
    ) -> None:
        row.status = ExportStatus.FAILED.value
        row.failure = reason
        row.expires_at = now + self.limits.ttl  # shown as failed until then
        await session.execute(
            delete(DataExportPartRow).where(DataExportPartRow.export_id == row.id)
        )

    async def sweep(self, now: datetime | None = None) -> tuple[int, int]:
        """Fail exports whose parts did not all arrive in time; delete the expired ones.
        Returns (failed, deleted)."""
        now = clock.now() if now is None else now
        async with self.sessions.begin() as session:
            late = (
                select(DataExportRow)
                .where(
                    DataExportRow.status == ExportStatus.REQUESTED.value,
                    DataExportRow.expires_at <= now,
                )
                .with_for_update(skip_locked=True)
            )
            failed = list(await session.scalars(late))
            for row in failed:
                missing = sorted(set(PARTS) - set(await self._parts_in(session, row.id)))
                await self._fail(
                    session,
                    row,
                    f"Not every part arrived in time (missing: {', '.join(missing)}).",
                    now,
                )
            deleted = await session.execute(
                delete(DataExportRow).where(
                    DataExportRow.status != ExportStatus.REQUESTED.value,
                    DataExportRow.expires_at <= now,
                )
            )
        return len(failed), int(getattr(deleted, "rowcount", 0) or 0)

    async def _parts_in(self, session: AsyncSession, export_id: uuid.UUID) -> list[str]:
        return list(
            await session.scalars(
                select(DataExportPartRow.part).where(DataExportPartRow.export_id == export_id)
            )
        )

    async def run_sweeps(self) -> None:
        """The users worker's periodic job, every LMS_DATA_EXPORT_SWEEP_SECONDS."""
        while True:
            await self.sweep()
            await asyncio.sleep(self.limits.sweep_seconds)
