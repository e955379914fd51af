"""Events the users domain consumes: its own side of data exports.

- user.export_requested: gather the account's own part (as every subgraph does);
- user.export_part: store a subgraph's part; the last one assembles the archive.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from common.data_exports import export_handler
from common.events.consumer import Handler
from common.events.envelope import Event
from subgraphs.users.data_exports import user_sections
from subgraphs.users.models import EVENTS
from subgraphs.users.services import UsersServices


def handlers(services: UsersServices) -> Mapping[str, Handler]:
    async def export_part(session: AsyncSession, event: Event) -> None:
        await services.exports.receive_part(session, event)

    return {
        "user.export_requested": export_handler("users", EVENTS.outbox, user_sections),
        "user.export_part": export_part,
    }
