"""Events announcing changes of the catalogue readers see (course details and status,
outlines, lessons, categories), written to the outbox in the change's transaction; the
courses worker turns them into cache invalidations (common/cache_invalidation.py)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from common.events.envelope import Event
from common.events.outbox import emit
from subgraphs.courses.models import EVENTS


async def announce(session: AsyncSession, event_type: str, **data: uuid.UUID | str) -> None:
    payload = {name: str(value) for name, value in data.items()}
    await emit(session, EVENTS.outbox, Event(event_type, payload, "courses"))


async def lesson_changed(
    session: AsyncSession, lesson_id: uuid.UUID, course_id: uuid.UUID, change: str
) -> None:
    await announce(
        session, "lesson.changed", lesson_id=lesson_id, course_id=course_id, change=change
    )


async def module_changed(
    session: AsyncSession, module_id: uuid.UUID, course_id: uuid.UUID, change: str
) -> None:
    await announce(
        session, "module.changed", module_id=module_id, course_id=course_id, change=change
    )
