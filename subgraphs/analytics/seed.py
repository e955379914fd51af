"""Demo activity for the dev run (idempotent): the statements the demo enrollments' events
would have made (registered, lessons completed), recorded as the worker records them, so a
demo learner's activity, their course's analytics and their recommendations are not empty."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from common import clock
from common.db import create_engine, service_dsn, session_factory
from common.demo import DEMO_ENROLLMENTS, demo_course_id, demo_id, demo_lesson_ids, demo_user_id
from common.events.envelope import Event
from common.settings import Settings
from subgraphs.analytics.ingestion import enrollment_created, lesson_completed
from subgraphs.analytics.models import StatementIdRow
from subgraphs.analytics.partitions import Partitions
from subgraphs.analytics.statements import record


def _events(now_hours_ago: int = 48) -> list[Event]:
    """The demo enrollments' events, an hour apart, the first `now_hours_ago` hours ago."""
    start = clock.now() - timedelta(hours=now_hours_ago)
    events: list[Event] = []
    for email, slug, done in DEMO_ENROLLMENTS:
        learner, course = demo_user_id(email), demo_course_id(slug)
        enrollment = demo_id("enrollment", email, slug)
        ids = {"enrollment_id": str(enrollment), "user_id": str(learner), "course_id": str(course)}
        at = start + timedelta(hours=len(events))
        events.append(
            Event(
                "enrollment.created",
                {**ids, "course_title": slug},
                "enrollments",
                id=demo_id("event", "enrolled", email, slug),
                occurred_at=at,
            )
        )
        lessons = demo_lesson_ids(slug)
        for number, lesson in enumerate(lessons[:done], start=1):
            events.append(
                Event(
                    "lesson.completed",
                    {
                        **ids,
                        "lesson_id": str(lesson),
                        "progress": round(100.0 * number / len(lessons), 2),
                    },
                    "enrollments",
                    id=demo_id("event", "completed", email, str(lesson)),
                    occurred_at=at + timedelta(minutes=10 * number),
                )
            )
    return events


async def seed(settings: Settings) -> list[str]:
    engine = create_engine(service_dsn(settings, "analytics"), pool_size=1)
    sessions = session_factory(engine)
    try:
        async with sessions() as session:
            if await session.scalar(select(StatementIdRow.id).limit(1)) is not None:
                return ["analytics: demo activity already present"]
        partitions = Partitions(sessions)
        events = _events()
        async with sessions.begin() as session:
            for event in events:
                translate = (
                    enrollment_created if event.type == "enrollment.created" else lesson_completed
                )
                await record(session, partitions, translate(event))
    finally:
        await engine.dispose()
    return [f"analytics: {len(events)} demo statements (enrollments and lessons completed)"]
