"""Who may read or write which analytics: the one place resolvers check it.

A learner's activity: themselves, administrators, and the instructors of the course asked
about (only that course's). A course's analytics: its instructors and administrators.
Recording activity: learners enrolled in the course, and its instructors. A learner's
recommendations: themselves and administrators."""

from __future__ import annotations

import uuid

from common.auth import Principal
from common.errors import Forbidden
from common.graphql.catalog import CourseFacts, visible_course
from subgraphs.analytics.loaders import AnalyticsInfo


async def may_read_learner(
    info: AnalyticsInfo, user_id: uuid.UUID, course_id: uuid.UUID | None
) -> Principal:
    principal = info.context.require_principal()
    if principal.user_id == user_id or principal.is_admin:
        return principal
    if course_id is not None:  # a course the caller may not see is no course they teach
        course = await info.context.loaders.course_to_read.load(course_id)
        if course is not None and course.taught_by(principal.user_id):
            return principal
    raise Forbidden(
        "Only the learner, administrators and the instructors of the course asked about "
        "see a learner's activity."
    )


async def may_read_course(info: AnalyticsInfo, course_id: uuid.UUID) -> CourseFacts:
    principal = info.context.require_principal()
    course = await visible_course(info.context.loaders.course_to_read, course_id)
    if not (principal.is_admin or course.taught_by(principal.user_id)):
        raise Forbidden("Only the course's instructors and administrators see its analytics.")
    return course


async def may_record(info: AnalyticsInfo, course_id: uuid.UUID) -> tuple[Principal, CourseFacts]:
    principal = info.context.require_principal()
    course = await visible_course(info.context.loaders.course, course_id)
    if not (
        course.taught_by(principal.user_id) or await info.context.loaders.enrolled.load(course_id)
    ):
        raise Forbidden("Only the course's learners and instructors record activity in it.")
    return principal, course


def may_read_recommendations(info: AnalyticsInfo, user_id: uuid.UUID) -> Principal:
    principal = info.context.require_principal()
    if not (principal.user_id == user_id or principal.is_admin):
        raise Forbidden("Only the learner and administrators see a learner's recommendations.")
    return principal
