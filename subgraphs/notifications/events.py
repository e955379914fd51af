"""Events the notifications domain turns into notifications, and user.deleted.

Each handler stores its notifications in the consumer's transaction (with the inbox row),
so a redelivered event notifies no one twice. Recipients that no longer exist are skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from common.data_exports import export_handler
from common.events.consumer import Handler
from common.events.envelope import Event
from common.telemetry import tracing
from subgraphs.notifications.categories import Category
from subgraphs.notifications.dispatcher import release_held_emails
from subgraphs.notifications.erasure import erase_user
from subgraphs.notifications.export import user_sections
from subgraphs.notifications.models import EVENTS
from subgraphs.notifications.people import Person
from subgraphs.notifications.services import NotificationsServices

AT_RISK_LISTED: Final = 30  # learners named in one at-risk notification; the rest counted
EXPORT_READY: Final[dict[str, object]] = {
    "title": "Your data export is ready",
    "message": "Download it from your account's data exports before the link expires.",
}


def _name(people: Mapping[uuid.UUID, Person], user_id: str) -> str:
    person = people.get(uuid.UUID(user_id))
    return person.name if person is not None else "A deleted user"


def handlers(services: NotificationsServices) -> Mapping[str, Handler]:
    notifications = services.notifications
    directory = notifications.directory

    async def notify(
        session: AsyncSession,
        users: list[uuid.UUID],
        category: Category,
        data: dict[str, object],
        course_id: str | None = None,
    ) -> None:
        with tracing.span(
            "notification created", {"lms.notification.category": category.value}
        ) as span:
            sent = await notifications.notify(
                users,
                category,
                dict(data),
                course_id=None if course_id is None else uuid.UUID(course_id),
                session=session,
                skip_missing=True,
            )
            if span is not None:
                span.set_attribute("lms.notification.recipients", sent.recipients)

    async def user_registered(session: AsyncSession, event: Event) -> None:
        if event.data.get("welcome", True):  # false: that e-mail address had its welcomes
            await notify(session, [uuid.UUID(event.data["user_id"])], Category.ACCOUNT, {})

    async def enrollment_created(session: AsyncSession, event: Event) -> None:
        await notify(
            session,
            [uuid.UUID(event.data["user_id"])],
            Category.ENROLLMENT,
            {"course_title": event.data["course_title"]},
            event.data["course_id"],
        )

    async def certificate_issued(session: AsyncSession, event: Event) -> None:
        await notify(
            session,
            [uuid.UUID(event.data["user_id"])],
            Category.CERTIFICATE,
            {"course_title": event.data["course_title"], "code": event.data["code"]},
            event.data["course_id"],
        )

    async def course_published(session: AsyncSession, event: Event) -> None:
        course_id = uuid.UUID(event.data["course_id"])
        learners = await directory.learners(course_id, await directory.identity.authorization())
        await notify(
            session,
            learners,
            Category.COURSE_UPDATE,
            {"title": f"{event.data['title']} is published", "message": "Open it to continue."},
            event.data["course_id"],
        )

    async def submission_graded(session: AsyncSession, event: Event) -> None:
        score = f"{event.data['score']:g}/{event.data['max_score']:g}"
        await notify(
            session,
            [uuid.UUID(event.data["user_id"])],
            Category.GRADE,
            {"assessment_title": event.data["assessment_title"], "score": score},
            event.data["course_id"],
        )

    async def at_risk_digest(session: AsyncSession, event: Event) -> None:
        learners = event.data["learners"]
        people = await directory.people(
            [uuid.UUID(item["user_id"]) for item in learners[:AT_RISK_LISTED]]
        )
        lines = [
            f"{_name(people, item['user_id'])} ({round(item['probability'] * 100)} %"
            + (f": {'; '.join(item['reasons'])})" if item["reasons"] else ")")
            for item in learners[:AT_RISK_LISTED]
        ]
        if len(learners) > AT_RISK_LISTED:
            lines.append(
                f"and {len(learners) - AT_RISK_LISTED} more: the course's at-risk learners "
                "list them all"
            )
        await notify(
            session,
            [uuid.UUID(item) for item in event.data["instructor_ids"]],
            Category.AT_RISK,
            {
                "course_title": event.data["course_title"],
                "count": len(learners),
                "learners": "\n".join(lines),
            },
            event.data["course_id"],
        )

    async def user_email_verified(session: AsyncSession, event: Event) -> None:
        await release_held_emails(session, uuid.UUID(event.data["user_id"]))

    async def user_deleted(session: AsyncSession, event: Event) -> None:
        await erase_user(session, uuid.UUID(event.data["user_id"]))

    async def export_ready(session: AsyncSession, event: Event) -> None:
        await notify(session, [uuid.UUID(event.data["user_id"])], Category.ACCOUNT, EXPORT_READY)

    return {
        "user.registered": user_registered,
        "enrollment.created": enrollment_created,
        "certificate.issued": certificate_issued,
        "course.published": course_published,
        "submission.graded": submission_graded,
        "user.email_verified": user_email_verified,
        "analytics.at_risk_digest": at_risk_digest,
        "user.deleted": user_deleted,
        "user.export_requested": export_handler("notifications", EVENTS.outbox, user_sections),
        "user.export_ready": export_ready,
    }
