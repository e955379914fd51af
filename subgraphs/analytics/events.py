"""Events the analytics domain records as statements, cohort assignments, drops and
re-enrolments (drops.py), user.deleted and the export part.

Each statement (and the aggregates it counts toward) is stored in the consumer's
transaction with the inbox row, so an event is recorded exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from common.data_exports import export_handler
from common.events.consumer import Handler
from common.events.envelope import Event
from subgraphs.analytics.cohorts import cohort_assigned
from subgraphs.analytics.drops import on_dropped, on_enrolled
from subgraphs.analytics.erasure import erase_user
from subgraphs.analytics.export import user_sections
from subgraphs.analytics.ingestion import TRANSLATIONS
from subgraphs.analytics.models import EVENTS
from subgraphs.analytics.partitions import Partitions
from subgraphs.analytics.services import AnalyticsServices
from subgraphs.analytics.statements import NewStatement, record


def recorder(partitions: Partitions, translate: Callable[[Event], NewStatement]) -> Handler:
    async def handle(session: AsyncSession, event: Event) -> None:
        await record(session, partitions, translate(event))

    return handle


def handlers(services: AnalyticsServices) -> Mapping[str, Handler]:
    partitions = services.analytics.partitions

    async def user_deleted(session: AsyncSession, event: Event) -> None:
        await erase_user(session, uuid.UUID(event.data["user_id"]))

    return {
        **{name: recorder(partitions, translate) for name, translate in TRANSLATIONS.items()},
        "enrollment.created": on_enrolled(partitions),
        "enrollment.dropped": on_dropped(partitions),
        "enrollment.cohort_assigned": cohort_assigned,
        "user.deleted": user_deleted,
        "user.export_requested": export_handler("analytics", EVENTS.outbox, user_sections),
    }
