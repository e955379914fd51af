"""The demo accounts of the dev run, with ids every subgraph's seed can compute on its own
(no subgraph reads another's schema, not even to seed)."""

from __future__ import annotations

import uuid
from typing import Final

from common.auth import Role

DEMO_NAMESPACE: Final = uuid.UUID("0b6c1e57-4f7a-4c3e-9f55-6d3f1c2a9e10")
DEMO_PASSWORD: Final = "demo-password-2026"
DEMO_USERS: Final = (
    ("admin@lms.local", "Ada Admin", Role.ADMIN),
    ("instructor@lms.local", "Ian Instructor", Role.INSTRUCTOR),
    ("student@lms.local", "Sam Student", Role.STUDENT),
    ("student2@lms.local", "Sasha Student", Role.STUDENT),
)


def demo_id(*parts: str) -> uuid.UUID:
    """A stable id for a demo record, e.g. demo_id("user", "admin@lms.local")."""
    return uuid.uuid5(DEMO_NAMESPACE, "/".join(parts))


def demo_user_id(email: str) -> uuid.UUID:
    return demo_id("user", email)


# Lessons of each demo course, in the courses seed's order: that seed writes exactly these
# (it checks), and the enrollments seed completes some of them.
DEMO_LESSON_COUNTS: Final = {
    "python-foundations": 6,
    "async-python": 4,
    "graphql-federation": 4,
    "data-analysis-pandas": 4,
    "ux-research-basics": 2,
    "machine-learning-draft": 1,
    "course-template": 2,
}


def demo_course_id(slug: str) -> uuid.UUID:
    return demo_id("course", slug)


def demo_lesson_ids(course_slug: str) -> list[uuid.UUID]:
    """The demo lesson ids of a course, in order."""
    count = DEMO_LESSON_COUNTS[course_slug]
    return [demo_id("lesson", course_slug, str(number)) for number in range(count)]


# The demo enrollments: learner, course slug, lessons completed. The enrollments seed writes
# them; the analytics seed records what they say the learners did.
DEMO_ENROLLMENTS: Final = (
    ("student@lms.local", "python-foundations", 4),
    ("student@lms.local", "graphql-federation", 1),
    ("student2@lms.local", "python-foundations", 2),
    ("student2@lms.local", "data-analysis-pandas", 0),
)
