"""What one domain needs to know about courses, users and enrollments, asked of their owners.

Each lookup goes to the owning subgraph as the caller (their token is forwarded), so a
student cannot learn about a draft course through another subgraph; one call per batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from common.auth.service_identity import ServiceIdentity
from common.errors import NotFound
from common.graphql.peers import PeerClient

COURSE_SELECTION = """
id title status instructor { id } coInstructors { id } modules { lessons { id required } }
"""


@dataclass(frozen=True, slots=True)
class CourseFacts:
    id: uuid.UUID
    title: str
    status: str
    instructor_ids: frozenset[uuid.UUID]
    lesson_ids: tuple[uuid.UUID, ...]
    required_lesson_ids: frozenset[uuid.UUID]

    def taught_by(self, user_id: uuid.UUID) -> bool:
        return user_id in self.instructor_ids

    @property
    def counted_lessons(self) -> frozenset[uuid.UUID]:
        """Lessons progress counts: the required ones, or every lesson if none is required."""
        return self.required_lesson_ids or frozenset(self.lesson_ids)


def _facts(entity: dict[str, object]) -> CourseFacts:
    lessons = [
        lesson
        for module in entity.get("modules") or []  # type: ignore[attr-defined]
        for lesson in module.get("lessons") or []
    ]
    teachers = [entity["instructor"], *(entity.get("coInstructors") or [])]  # type: ignore[misc]
    return CourseFacts(
        id=uuid.UUID(str(entity["id"])),
        title=str(entity["title"]),
        status=str(entity["status"]),
        instructor_ids=frozenset(uuid.UUID(person["id"]) for person in teachers),
        lesson_ids=tuple(uuid.UUID(lesson["id"]) for lesson in lessons),
        required_lesson_ids=frozenset(
            uuid.UUID(lesson["id"]) for lesson in lessons if lesson.get("required")
        ),
    )


async def visible_course(
    courses: DataLoader[uuid.UUID, CourseFacts | None],
    course_id: uuid.UUID,
    field: str = "courseId",
) -> CourseFacts:
    """The course as the caller may see it (its owner was asked as the caller), or NOT_FOUND:
    a draft the caller may not see is not acknowledged."""
    facts = await courses.load(course_id)
    if facts is None:
        raise NotFound(f"No course has id {course_id}.", field=field)
    return facts


def course_facts_batch(
    courses: PeerClient, authorization: str | None
) -> Callable[[list[uuid.UUID]], Awaitable[list[CourseFacts | None]]]:
    """One call to courses, as the caller, for a batch of courses (a loader's function)."""

    async def load(ids: list[uuid.UUID]) -> list[CourseFacts | None]:
        found = await courses.entities(
            "Course", [str(item) for item in ids], COURSE_SELECTION, authorization=authorization
        )
        return [None if entity is None else _facts(entity) for entity in found]

    return load


def course_facts_loader(
    courses: PeerClient, authorization: str | None
) -> DataLoader[uuid.UUID, CourseFacts | None]:
    return DataLoader(course_facts_batch(courses, authorization))


def user_names_loader(
    users: PeerClient, authorization: str | None
) -> DataLoader[uuid.UUID, str | None]:
    """Users' display names; None for an id no user has (so it also checks existence)."""

    async def load(ids: list[uuid.UUID]) -> list[str | None]:
        found = await users.entities(
            "User", [str(item) for item in ids], "id name", authorization=authorization
        )
        return [None if entity is None else str(entity.get("name")) for entity in found]

    return DataLoader(load)


ENROLLMENT_STATUSES = """
query($courseIds: [ID!]!) { enrollmentStatuses(courseIds: $courseIds) { courseId status } }
"""
ACTIVE_STATUSES = frozenset({"ACTIVE", "COMPLETED"})


def enrolled_loader(peer: PeerClient, authorization: str | None) -> DataLoader[uuid.UUID, bool]:
    """Whether the caller is enrolled (active or completed) in each course, asked of the
    enrollments subgraph."""

    async def load(course_ids: list[uuid.UUID]) -> list[bool]:
        if authorization is None:
            return [False] * len(course_ids)
        data = await peer.query(
            ENROLLMENT_STATUSES,
            {"courseIds": [str(item) for item in course_ids]},
            authorization=authorization,
        )
        active = {
            entry["courseId"]
            for entry in data["enrollmentStatuses"]
            if entry.get("status") in ACTIVE_STATUSES
        }
        return [str(item) in active for item in course_ids]

    return DataLoader(load)


class ServiceDirectory:
    """Courses and users as the service itself sees them (its own client-credentials token,
    with the scopes it was granted), for work no caller asked for: event handlers and
    background jobs."""

    def __init__(self, courses: PeerClient, users: PeerClient, identity: ServiceIdentity) -> None:
        self.courses = courses
        self.users = users
        self.identity = identity

    async def course(self, course_id: uuid.UUID) -> CourseFacts | None:
        [entity] = await self.courses.entities(
            "Course",
            [str(course_id)],
            COURSE_SELECTION,
            authorization=await self.identity.authorization(),
        )
        return None if entity is None else _facts(entity)

    async def user_name(self, user_id: uuid.UUID) -> str | None:
        [entity] = await self.users.entities(
            "User", [str(user_id)], "id name", authorization=await self.identity.authorization()
        )
        return None if entity is None else str(entity.get("name"))
