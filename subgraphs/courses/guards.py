"""What the caller may read of a course, loaded through the request's DataLoaders: the one
place resolvers check read access (drafts answer NOT_FOUND, content needs an enrollment)."""

from __future__ import annotations

import uuid

from common.auth.principal import Principal
from common.errors import Forbidden
from common.graphql.cache_control.extension import restrict_cache
from common.graphql.cache_control.hints import NO_STORE, PRIVATE
from subgraphs.courses import access
from subgraphs.courses.loaders import CoursesInfo
from subgraphs.courses.models import CourseRow


def kept_only_if_open(info: CoursesInfo, course: CourseRow) -> CourseRow:
    """A draft, or a course in review, is seen by its instructors and administrators alone:
    an answer holding one (or its lessons) is never kept (`no-store`)."""
    if course.status not in access.OPEN_STATUSES:
        restrict_cache(info, NO_STORE)
    return course


def catalogue_viewer(info: CoursesInfo) -> Principal | None:
    """The caller a list of courses is drawn for. A signed-in caller may see more than the
    open courses (drafts they teach, co-teach, or, as an administrator, every one), so their
    list is their own: PRIVATE, neither kept for others nor answered from what others were
    given (a draft-free answer would hide their drafts). Anonymous lists are shared."""
    principal = info.context.caller()
    if principal is not None:
        restrict_cache(info, PRIVATE)
    return principal


async def course_access(info: CoursesInfo, course_id: uuid.UUID) -> tuple[CourseRow, bool]:
    """The course and whether the caller may edit it."""
    course = await info.context.loaders.course.load(course_id)
    principal = info.context.caller()
    course = kept_only_if_open(info, access.visible(principal, course, course_id))
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
