"""GraphQL surface of adaptive testing: making an assessment ADAPTIVE, the bank's item
calibration (the course's instructors and administrators only: learners never see item
parameters), and what an adaptive attempt shows (its current question, its ability)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from common.graphql.access import scopes, signed_in
from common.graphql.catalog import visible_course
from common.graphql.ids import parse_id
from subgraphs.assessments.adaptive.items import prior_item
from subgraphs.assessments.adaptive.models import ItemParametersRow
from subgraphs.assessments.adaptive.testing import AdaptiveDraft
from subgraphs.assessments.assessment_schema import AssessmentPayload, assessment_of
from subgraphs.assessments.bank import require_manager
from subgraphs.assessments.guards import visible_assessment
from subgraphs.assessments.loaders import AssessmentsInfo
from subgraphs.assessments.models import QuestionRow
from subgraphs.assessments.question_schema import Question, question_of


@strawberry.type(description="A question's item response theory parameters.")
class ItemCalibration:
    question: Question
    model: str = strawberry.field(
        description="2PL, 3PL, or PRIOR (too few responses: from the authored difficulty)."
    )
    discrimination: float
    difficulty: float
    guessing: float
    discrimination_error: float | None
    difficulty_error: float | None
    guessing_error: float | None
    responses: int
    calibrated_at: datetime | None


def calibration_of(question: QuestionRow, row: ItemParametersRow | None) -> ItemCalibration:
    prior = prior_item(question)
    return ItemCalibration(
        question=question_of(question, key_visible=True),
        model="PRIOR" if row is None else row.model,
        discrimination=prior.a if row is None else row.a,
        difficulty=prior.b if row is None else row.b,
        guessing=prior.c if row is None else row.c,
        discrimination_error=None if row is None else row.se_a,
        difficulty_error=None if row is None else row.se_b,
        guessing_error=None if row is None else row.se_c,
        responses=0 if row is None else row.responses,
        calibrated_at=None if row is None else row.calibrated_at,
    )


@strawberry.input(
    description="Make an assessment ADAPTIVE (or fixed again), before anyone starts it."
)
class ConfigureAdaptiveInput:
    assessment_id: strawberry.ID
    adaptive: bool = True
    target_standard_error: float = 0.3
    max_items: int | None = strawberry.field(
        default=None, description="Default: the assessment's question count."
    )
    randomesque: int = 5
    max_exposure: float = strawberry.field(
        default=0.25,
        description="Exposure control: a question given in more than this share of the "
        "assessment's attempts is not chosen while others can be.",
    )
    scale_min: float = 0.0
    scale_max: float = 100.0


@strawberry.input
class CalibrateItemsInput:
    course_id: strawberry.ID


@strawberry.type
class CalibrationResult:
    responders: int = strawberry.field(description="Graded attempts used.")
    calibrated: int = strawberry.field(description="Items with enough responses (2PL or 3PL).")
    on_priors: int = strawberry.field(description="Items left on their authored difficulty.")


@strawberry.type
class AdaptiveQueries:
    @strawberry.field(
        extensions=[signed_in()],
        description="The IRT parameters of a course's objective questions (its instructors).",
    )
    async def item_calibrations(
        self, info: AssessmentsInfo, course_id: strawberry.ID
    ) -> list[ItemCalibration]:
        course = await visible_course(
            info.context.loaders.course, parse_id(course_id, field="courseId")
        )
        require_manager(info.context.require_principal(), course, "see its item parameters")
        rows = await info.context.service.calibrator.parameters_of(course.id)
        return [calibration_of(question, row) for question, row in rows]


@strawberry.type
class AdaptiveMutations:
    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Make an assessment ADAPTIVE: one question at a time, by the learner's "
        "ability (the course's instructors).",
    )
    async def configure_adaptive(
        self, info: AssessmentsInfo, input: ConfigureAdaptiveInput
    ) -> AssessmentPayload:
        assessment, course = await visible_assessment(info, parse_id(input.assessment_id))
        draft = (
            AdaptiveDraft(
                target_se=input.target_standard_error,
                max_items=input.max_items,
                randomesque=input.randomesque,
                max_exposure=input.max_exposure,
                scale_low=input.scale_min,
                scale_high=input.scale_max,
            )
            if input.adaptive
            else None
        )
        await info.context.service.assessments.adaptive.configure(
            info.context.require_principal(), course, assessment, draft
        )
        return AssessmentPayload(assessment=assessment_of(assessment))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Calibrate the course's question bank from its graded attempts now.",
    )
    async def calibrate_items(
        self, info: AssessmentsInfo, input: CalibrateItemsInput
    ) -> CalibrationResult:
        course = await visible_course(
            info.context.loaders.course, parse_id(input.course_id, field="courseId")
        )
        require_manager(info.context.require_principal(), course, "calibrate its questions")
        report = await info.context.service.calibrator.calibrate_course(course.id)
        return CalibrationResult(
            responders=report.responders,
            calibrated=report.calibrated,
            on_priors=report.on_priors,
        )
