"""Writing events: into the outbox, in the caller's transaction, waking the relay at commit."""

from __future__ import annotations

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from common.events.envelope import Event
from common.telemetry import tracing

NOTIFY_CHANNEL = "lms_outbox"


async def emit(session: AsyncSession, outbox: Table, *events: Event) -> None:
    """Add events to the outbox; they are published only if the transaction commits."""
    if not events:
        return
    rows = [
        {"id": e.id, "type": e.type, "envelope": e.to_dict(), "created_at": e.occurred_at}
        for e in events
    ]
    with tracing.span(
        "outbox write",
        {"lms.outbox": outbox.schema or "", "lms.event.types": sorted({e.type for e in events})},
    ):
        await session.execute(insert(outbox), rows)
        # NOTIFY is transactional: the relay hears it only once the change is committed.
        await session.execute(select(func.pg_notify(NOTIFY_CHANNEL, outbox.schema or "")))
