"""What the caller may read of the assessments subgraph, loaded through the request's
DataLoaders: the one place resolvers check read access. Anything else answers NOT_FOUND (it
is not acknowledged).
"""

from __future__ import annotations

import uuid

from common.errors import NotFound
from common.graphql.catalog import CourseFacts
from subgraphs.assessments.bank import can_manage
from subgraphs.assessments.loaders import AssessmentsInfo
from subgraphs.assessments.models import AssessmentRow, AttemptRow, QuestionRow
from subgraphs.assessments.service import can_see_assessment


async def visible_assessment(
    info: AssessmentsInfo, assessment_id: uuid.UUID, field: str = "assessmentId"
) -> tuple[AssessmentRow, CourseFacts]:
    principal = info.context.require_principal()
    row = await info.context.loaders.assessment.load(assessment_id)
    course = None if row is None else await info.context.loaders.course.load(row.course_id)
    if row is not None and course is not None:
        enrolled = await info.context.loaders.enrolled.load(row.course_id)
        if can_see_assessment(principal, course, enrolled, row):
            return row, course
    raise NotFound(f"No assessment has id {assessment_id}.", field=field)


async def visible_attempt(
    info: AssessmentsInfo, attempt_id: uuid.UUID, field: str = "attemptId"
) -> tuple[AttemptRow, AssessmentRow, CourseFacts]:
    """An attempt its learner, the course's instructors or an administrator may see."""
    principal = info.context.require_principal()
    attempt = await info.context.loaders.attempt.load(attempt_id)
    if attempt is not None:
        assessment = await info.context.loaders.assessment.load(attempt.assessment_id)
        assert assessment is not None
        course = await info.context.loaders.course.load(assessment.course_id)
        if course is not None and (
            attempt.user_id == principal.user_id or can_manage(principal, course)
        ):
            return attempt, assessment, course
    raise NotFound(f"No attempt has id {attempt_id}.", field=field)


async def managed_question(
    info: AssessmentsInfo, question_id: uuid.UUID
) -> tuple[QuestionRow, CourseFacts]:
    question = await info.context.loaders.question.load(question_id)
    course = (
        None if question is None else await info.context.loaders.course.load(question.course_id)
    )
    if (
        question is None
        or course is None
        or not can_manage(info.context.require_principal(), course)
    ):
        raise NotFound(f"No question of yours has id {question_id}.", field="id")
    return question, course
