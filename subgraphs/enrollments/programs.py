"""Learning paths (ordered courses with prerequisites), cohorts, and course analytics."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.auth import Principal, Role
from common.db.batches import rows_by_id, rows_grouped
from common.errors import BadUserInput, Conflict, Forbidden, NotFound
from common.events.envelope import Event
from common.events.outbox import emit
from common.graphql.catalog import CourseFacts
from subgraphs.enrollments.models import (
    EVENTS,
    CohortRow,
    EnrollmentRow,
    LearningPathRow,
    PathCourseRow,
)
from subgraphs.enrollments.service import EnrollmentStatus, can_manage

MAX_PATH_COURSES = 50


@dataclass(frozen=True, slots=True)
class PathStep:
    course_id: uuid.UUID
    prerequisite_ids: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True, slots=True)
class Analytics:
    enrolled: int
    active: int
    completed: int
    dropped: int
    completion_rate: float
    average_progress: float
    median_days_to_complete: float | None


_ANALYTICS = text(
    """
    SELECT count(*) AS enrolled,
           count(*) FILTER (WHERE status = 'ACTIVE') AS active,
           count(*) FILTER (WHERE status = 'COMPLETED') AS completed,
           count(*) FILTER (WHERE status = 'DROPPED') AS dropped,
           coalesce(avg(progress), 0) AS average_progress,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY extract(epoch FROM completed_at - enrolled_at) / 86400.0
           ) FILTER (WHERE status = 'COMPLETED') AS median_days
    FROM enrollments
    WHERE course_id = :course_id AND (CAST(:cohort_id AS uuid) IS NULL OR cohort_id = :cohort_id)
    """
)


def _cohort_assigned(enrollment: EnrollmentRow) -> Event:
    return Event(
        "enrollment.cohort_assigned",
        {
            "enrollment_id": str(enrollment.id),
            "user_id": str(enrollment.user_id),
            "course_id": str(enrollment.course_id),
            "cohort_id": str(enrollment.cohort_id),
        },
        "enrollments",
    )


def _name(value: str, field: str = "title") -> str:
    cleaned = " ".join(value.split())
    if not 3 <= len(cleaned) <= 200:
        raise BadUserInput(f"{field} must be 3 to 200 characters long.", field=field)
    return cleaned


class ProgramsService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    # Learning paths

    async def create_path(
        self,
        principal: Principal,
        title: str,
        description: str,
        steps: Sequence[PathStep],
        courses: dict[uuid.UUID, CourseFacts | None],
    ) -> LearningPathRow:
        """A path of courses in order; a step's prerequisites must come earlier in the path.
        Prerequisites bind every enrollment in that course, so only the course's
        instructors (or an administrator) may give a course prerequisites."""
        if not (principal.has_role(Role.INSTRUCTOR) or principal.is_admin):
            raise Forbidden("Only instructors and administrators create learning paths.")
        if not 1 <= len(steps) <= MAX_PATH_COURSES:
            raise BadUserInput(f"A path has 1 to {MAX_PATH_COURSES} courses.", field="courses")
        seen: set[uuid.UUID] = set()
        for step in steps:
            if step.course_id in seen:
                raise BadUserInput("A course appears twice in the path.", field="courses")
            facts = courses.get(step.course_id)
            if facts is None:
                raise NotFound(f"No course has id {step.course_id}.", field="courses")
            if not set(step.prerequisite_ids) <= seen:
                raise BadUserInput(
                    "A prerequisite must be an earlier course of the path.", field="courses"
                )
            if step.prerequisite_ids and not can_manage(principal, facts):
                raise Forbidden(
                    f"Only instructors of {facts.title!r} can give it prerequisites.",
                    field="courses",
                )
            seen.add(step.course_id)
        if len(description) > 5000:
            raise BadUserInput("description must be at most 5000 characters.", field="description")
        async with self.sessions.begin() as session:
            path = LearningPathRow(
                id=uuid.uuid4(),
                title=_name(title),
                description=description.strip(),
                owner_id=principal.user_id,
            )
            session.add(path)
            await session.flush()
            for position, step in enumerate(steps):
                session.add(
                    PathCourseRow(
                        path_id=path.id,
                        course_id=step.course_id,
                        position=position,
                        prerequisite_ids=list(step.prerequisite_ids),
                    )
                )
        return path

    async def path(self, path_id: uuid.UUID) -> LearningPathRow:
        async with self.sessions() as session:
            path = await session.get(LearningPathRow, path_id)
        if path is None:
            raise NotFound(f"No learning path has id {path_id}.", field="id")
        return path

    async def paths(self) -> list[LearningPathRow]:
        async with self.sessions() as session:
            return list(
                await session.scalars(
                    select(LearningPathRow).order_by(LearningPathRow.created_at).limit(200)
                )
            )

    async def steps_of(self, path_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[PathCourseRow]]:
        return await rows_grouped(
            self.sessions, PathCourseRow, PathCourseRow.path_id, path_ids, PathCourseRow.position
        )

    async def completed_courses(
        self, user_id: uuid.UUID, course_ids: Sequence[uuid.UUID]
    ) -> set[uuid.UUID]:
        async with self.sessions() as session:
            return set(
                await session.scalars(
                    select(EnrollmentRow.course_id).where(
                        EnrollmentRow.user_id == user_id,
                        EnrollmentRow.course_id.in_(course_ids),
                        EnrollmentRow.status == EnrollmentStatus.COMPLETED.value,
                    )
                )
            )

    # Cohorts

    async def create_cohort(
        self,
        principal: Principal,
        course: CourseFacts,
        name: str,
        starts_on: date,
        ends_on: date,
    ) -> CohortRow:
        if not can_manage(principal, course):
            raise Forbidden("Only the course's instructors and administrators manage cohorts.")
        if ends_on < starts_on:
            raise BadUserInput("endsOn must not be before startsOn.", field="endsOn")
        cohort = CohortRow(
            id=uuid.uuid4(),
            course_id=course.id,
            name=_name(name, "name"),
            starts_on=starts_on,
            ends_on=ends_on,
            created_by=principal.user_id,
        )
        try:
            async with self.sessions.begin() as session:
                session.add(cohort)
        except IntegrityError:
            raise Conflict("The course already has a cohort of that name.", field="name") from None
        return cohort

    async def cohort(self, cohort_id: uuid.UUID) -> CohortRow:
        async with self.sessions() as session:
            cohort = await session.get(CohortRow, cohort_id)
        if cohort is None:
            raise NotFound(f"No cohort has id {cohort_id}.", field="cohortId")
        return cohort

    async def assign(
        self,
        principal: Principal,
        course: CourseFacts,
        cohort: CohortRow,
        enrollment_ids: Sequence[uuid.UUID],
    ) -> list[EnrollmentRow]:
        if not can_manage(principal, course):
            raise Forbidden("Only the course's instructors and administrators manage cohorts.")
        if not 1 <= len(enrollment_ids) <= 500:
            raise BadUserInput(
                "enrollmentIds must name 1 to 500 enrollments.", field="enrollmentIds"
            )
        async with self.sessions.begin() as session:
            rows = list(
                await session.scalars(
                    select(EnrollmentRow)
                    .where(EnrollmentRow.id.in_(enrollment_ids))
                    .with_for_update()
                )
            )
            if len(rows) != len(set(enrollment_ids)) or any(
                row.course_id != cohort.course_id for row in rows
            ):
                raise BadUserInput(
                    "Every enrollment must exist and belong to the cohort's course.",
                    field="enrollmentIds",
                )
            moved = [row for row in rows if row.cohort_id != cohort.id]
            for row in moved:
                row.cohort_id = cohort.id
            await emit(session, EVENTS.outbox, *(_cohort_assigned(row) for row in moved))
            return rows

    async def cohorts_of(self, course_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[CohortRow]]:
        return await rows_grouped(
            self.sessions,
            CohortRow,
            CohortRow.course_id,
            course_ids,
            CohortRow.starts_on,
            CohortRow.name,
        )

    async def cohorts_by_ids(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, CohortRow]:
        return await rows_by_id(self.sessions, CohortRow, ids)

    # Analytics

    async def analytics(
        self, principal: Principal, course: CourseFacts, cohort_id: uuid.UUID | None
    ) -> Analytics:
        if not can_manage(principal, course):
            raise Forbidden("Only the course's instructors and administrators see analytics.")
        async with self.sessions() as session:
            if cohort_id is not None:
                cohort = await session.get(CohortRow, cohort_id)
                if cohort is None or cohort.course_id != course.id:
                    raise NotFound(f"The course has no cohort {cohort_id}.", field="cohortId")
            row = (
                await session.execute(_ANALYTICS, {"course_id": course.id, "cohort_id": cohort_id})
            ).one()
        counted = row.active + row.completed
        return Analytics(
            enrolled=row.enrolled,
            active=row.active,
            completed=row.completed,
            dropped=row.dropped,
            completion_rate=round(row.completed / counted, 4) if counted else 0.0,
            average_progress=round(float(row.average_progress), 2),
            median_days_to_complete=(
                None if row.median_days is None else round(float(row.median_days), 2)
            ),
        )
