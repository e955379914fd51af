"""Demo notifications for the dev run (idempotent): welcomes, enrollments, a graded quiz and
an announcement, some already read."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from common import clock
from common.db import create_engine, service_dsn, session_factory
from common.demo import demo_course_id, demo_id, demo_user_id
from common.settings import Settings
from subgraphs.notifications.models import NotificationRow

# recipient, category, title, body, course slug, hours ago, read
PLAN = (
    (
        "student@lms.local",
        "ACCOUNT",
        "Welcome to {platform}",
        "Hello Sam, your account is ready.",
        None,
        72,
        True,
    ),
    (
        "student@lms.local",
        "ENROLLMENT",
        "You are enrolled in Python Foundations",
        "Happy learning!",
        "python-foundations",
        70,
        True,
    ),
    (
        "student@lms.local",
        "GRADE",
        "Python basics check has been graded",
        "Your score: 6/7.",
        "python-foundations",
        47,
        False,
    ),
    (
        "student@lms.local",
        "ANNOUNCEMENT",
        "Office hours moved",
        "Office hours are on Thursday this week.",
        "python-foundations",
        5,
        False,
    ),
    (
        "student2@lms.local",
        "ACCOUNT",
        "Welcome to {platform}",
        "Hello Sasha, your account is ready.",
        None,
        72,
        True,
    ),
    (
        "student2@lms.local",
        "GRADE",
        "Python basics check has been graded",
        "Your score: 3/7.",
        "python-foundations",
        47,
        False,
    ),
)


async def seed(settings: Settings) -> list[str]:
    engine = create_engine(service_dsn(settings, "notifications"), pool_size=1)
    now = clock.now()
    instructor = demo_user_id("instructor@lms.local")
    try:
        async with session_factory(engine).begin() as session:
            if await session.scalar(select(NotificationRow.id).limit(1)) is not None:
                return ["notifications: demo notifications already present"]
            for index, (email, category, title, body, slug, hours, read) in enumerate(PLAN):
                created = now - timedelta(hours=hours)
                session.add(
                    NotificationRow(
                        id=demo_id("notification", str(index)),
                        user_id=demo_user_id(email),
                        category=category,
                        title=title.format(platform=settings.platform_name),
                        body=body,
                        data={},
                        sender_id=instructor if category == "ANNOUNCEMENT" else None,
                        course_id=None if slug is None else demo_course_id(slug),
                        created_at=created,
                        read_at=created + timedelta(hours=1) if read else None,
                    )
                )
    finally:
        await engine.dispose()
    return [f"notifications: {len(PLAN)} demo notifications"]
