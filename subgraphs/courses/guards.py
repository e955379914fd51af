"""What the caller may read of a course, loaded through the request's DataLoaders: the one
place resolvers check read access (drafts answer NOT_FOUND, content needs an enrollment)."""

from __future__ import annotations

import uuid

from common.errors import Forbidden
from subgraphs.courses import access
from subgraphs.courses.loaders import CoursesInfo
from subgraphs.courses.models import CourseRow


async def course_access(info: CoursesInfo, course_id: uuid.UUID) -> tuple[CourseRow, bool]:
    """The course and whether the caller may edit it."""
    course = await info.context.loaders.course.load(course_id)
    principal = info.context.caller()
    course = access.visible(principal, course, course_id)
    return course, access.is_editor(principal, course)


async def require_content_access(info: CoursesInfo, course_id: uuid.UUID) -> None:
    """Lesson content is for enrolled learners, the course's instructors and administrators."""
    course, editor = await course_access(info, course_id)
    if editor:
        return
    if info.context.caller() is None:
        info.context.require_principal()
    if not await info.context.loaders.enrolled.load(course.id):
        raise Forbidden("Enroll in the course to see its lessons' content.")


async def require_editor(info: CoursesInfo, course_id: uuid.UUID) -> None:
    _, editor = await course_access(info, course_id)
    if not editor:
        raise Forbidden("Only the course's instructors and administrators can see this.")
