"""Who may see and change a course: the one place these rules are written."""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import ColumnElement, or_, true
from sqlalchemy.ext.asyncio import AsyncSession

from common import clock
from common.auth import Principal, Role
from common.errors import Forbidden, NotFound
from subgraphs.courses.models import CourseRow, LessonRow, ModuleRow


class CourseStatus(StrEnum):
    DRAFT = "DRAFT"
    IN_REVIEW = "IN_REVIEW"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"


# Archived courses stay readable, so learners keep their history; they leave the catalogue.
OPEN_STATUSES = (CourseStatus.PUBLISHED.value, CourseStatus.ARCHIVED.value)


def is_editor(principal: Principal | None, course: CourseRow) -> bool:
    """The owner, a co-instructor, or an administrator."""
    if principal is None:
        return False
    return (
        principal.is_admin
        or course.instructor_id == principal.user_id
        or principal.user_id in course.co_instructor_ids
    )


UNPUBLISHED_SCOPE = "courses:unpublished"  # a service's, to read any course (no editing)


def can_view(principal: Principal | None, course: CourseRow) -> bool:
    return (
        course.status in OPEN_STATUSES
        or is_editor(principal, course)
        or (principal is not None and principal.service_may(UNPUBLISHED_SCOPE))
    )


def visible(
    principal: Principal | None, course: CourseRow | None, course_id: uuid.UUID
) -> CourseRow:
    """The course, or NOT_FOUND: a draft is not acknowledged to those who may not see it."""
    if course is None or not can_view(principal, course):
        raise NotFound(f"No course has id {course_id}.", field="id")
    return course


def editable(principal: Principal, course: CourseRow | None, course_id: uuid.UUID) -> CourseRow:
    course = visible(principal, course, course_id)
    if not is_editor(principal, course):
        raise Forbidden("Only the course's instructors and administrators can change it.")
    return course


def require_author(principal: Principal) -> None:
    if not (principal.has_role(Role.INSTRUCTOR) or principal.is_admin):
        raise Forbidden("Only instructors and administrators can create courses.")


def visibility_clause(principal: Principal | None) -> ColumnElement[bool]:
    """SQL form of can_view, for lists."""
    if principal is not None and (principal.is_admin or principal.service_may(UNPUBLISHED_SCOPE)):
        return true()
    clause = CourseRow.status.in_(OPEN_STATUSES)
    if principal is None:
        return clause
    return or_(
        clause,
        CourseRow.instructor_id == principal.user_id,
        CourseRow.co_instructor_ids.contains([principal.user_id]),
    )


async def editable_course(
    session: AsyncSession,
    principal: Principal,
    course_id: uuid.UUID,
    *,
    lock: bool = False,
) -> CourseRow:
    course = await session.get(CourseRow, course_id, with_for_update=lock)
    return editable(principal, course, course_id)


async def editable_module(
    session: AsyncSession, principal: Principal, module_id: uuid.UUID
) -> ModuleRow:
    module = await session.get(ModuleRow, module_id)
    if module is None:
        raise NotFound(f"No module has id {module_id}.", field="moduleId")
    await editable_course(session, principal, module.course_id, lock=True)
    return module


async def editable_lesson(
    session: AsyncSession,
    principal: Principal,
    lesson_id: uuid.UUID,
    *,
    lock: bool = False,
) -> LessonRow:
    lesson = await session.get(LessonRow, lesson_id, with_for_update=lock)
    if lesson is None:
        raise NotFound(f"No lesson has id {lesson_id}.", field="lessonId")
    course = await session.get(CourseRow, lesson.course_id)
    if course is None or not can_view(principal, course):
        raise NotFound(f"No lesson has id {lesson_id}.", field="lessonId")
    if not is_editor(principal, course):
        raise Forbidden("Only the course's instructors and administrators can change it.")
    return lesson


def touch(course: CourseRow) -> None:
    """Record a change: a new version (optimistic concurrency) and updatedAt."""
    course.version += 1
    course.updated_at = clock.now()
