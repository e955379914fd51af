"""Events the courses domain consumes: user.deleted (see erasure.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from common.data_exports import export_handler
from common.events.consumer import Handler
from common.events.envelope import Event
from subgraphs.courses.erasure import erase_user
from subgraphs.courses.export import user_sections
from subgraphs.courses.models import EVENTS
from subgraphs.courses.services import CoursesServices


def handlers(_: CoursesServices) -> Mapping[str, Handler]:
    async def user_deleted(session: AsyncSession, event: Event) -> None:
        await erase_user(session, uuid.UUID(event.data["user_id"]))

    return {
        "user.deleted": user_deleted,
        "user.export_requested": export_handler("courses", EVENTS.outbox, user_sections),
    }
