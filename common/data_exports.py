"""A user's personal data, gathered by each subgraph for a data export (GDPR art. 15/20).

The users subgraph emits `user.export_requested`; every subgraph (users included) answers
with `user.export_part`: the user's rows in its own schema as JSON text, section by section
(`export_handler`). A part that would not fit in an event is sent as an error instead, and
the export fails rather than arriving incomplete.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final

from sqlalchemy import Executable, Table
from sqlalchemy.ext.asyncio import AsyncSession

from common.events.consumer import Handler
from common.events.envelope import Event
from common.events.outbox import emit
from common.settings import SERVICES

PARTS: Final = SERVICES  # every subgraph sends one part
FORMAT_VERSION: Final = 1

# section name -> the query selecting the user's rows of it (secrets left out)
Sections = Mapping[str, Executable]


def _plain(value: object) -> object:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not exported")


def to_json(document: object) -> str:
    return json.dumps(document, default=_plain, ensure_ascii=False, indent=1, sort_keys=True)


async def gather(session: AsyncSession, sections: Sections) -> dict[str, list[dict[str, Any]]]:
    """Each section's rows, as JSON-ready mappings of column name to value."""
    found: dict[str, list[dict[str, Any]]] = {}
    for name, query in sections.items():
        rows = (await session.execute(query)).mappings().all()
        found[name] = [dict(row) for row in rows]
    return found


def part_event(
    service: str, export_id: uuid.UUID, user_id: uuid.UUID, text: str, max_bytes: int
) -> Event:
    """The `user.export_part` event carrying `text`, or an error if it is over `max_bytes`
    once escaped into the event (the envelope then still fits in MAX_EVENT_BYTES)."""
    data: dict[str, Any] = {"export_id": str(export_id), "user_id": str(user_id), "part": service}
    size = len(json.dumps(text).encode())
    if size > max_bytes:
        data["error"] = f"the {service} part is {size} bytes, over the limit of {max_bytes}"
    else:
        data["content"] = text
    return Event("user.export_part", data, service)


def export_handler(
    service: str, outbox: Table, sections: Callable[[uuid.UUID], Sections]
) -> Handler:
    """The `user.export_requested` handler of `service`: gather the user's sections and
    emit its part, in the consumer's transaction."""

    async def export_requested(session: AsyncSession, event: Event) -> None:
        user_id = uuid.UUID(event.data["user_id"])
        document = {
            "service": service,
            "user_id": str(user_id),
            **await gather(session, sections(user_id)),
        }
        await emit(
            session,
            outbox,
            part_event(
                service,
                uuid.UUID(event.data["export_id"]),
                user_id,
                to_json(document),
                int(event.data["max_part_bytes"]),
            ),
        )

    return export_requested
