"""What an adaptive assessment and attempt show: the assessment's adaptive settings, the
attempt's current question (the only one a learner can answer) and its ability estimate."""

from __future__ import annotations

import uuid

import strawberry

from subgraphs.assessments.adaptive.testing import scale_of
from subgraphs.assessments.loaders import AssessmentsInfo
from subgraphs.assessments.models import AttemptRow
from subgraphs.assessments.question_schema import Question, question_of
from subgraphs.assessments.service import AttemptStatus


@strawberry.type(description="How an ADAPTIVE assessment runs.")
class AdaptiveSettings:
    target_standard_error: float = strawberry.field(
        description="The test stops once the ability's standard error (θ units) is this low."
    )
    max_items: int = strawberry.field(description="or after this many questions.")
    randomesque: int = strawberry.field(
        description="Exposure control: the next question is drawn from this many most "
        "informative ones."
    )
    max_exposure: float = strawberry.field(
        description="Exposure control: no question is chosen while it has been given in more "
        "than this share of the assessment's attempts (unless every other one has)."
    )
    scale_min: float = strawberry.field(description="The reported score for θ ≤ -3.")
    scale_max: float = strawberry.field(description="The reported score for θ ≥ 3.")


@strawberry.type(description="An adaptive attempt's ability estimate.")
class AbilityEstimate:
    score: float = strawberry.field(description="The ability on the assessment's scale.")
    standard_error: float = strawberry.field(description="Its standard error on that scale.")
    theta: float = strawberry.field(description="The ability in θ units (mean 0, SD 1).")
    theta_standard_error: float
    method: str = strawberry.field(description="EAP, or MLE once answers are right and wrong.")
    items_answered: int
    stop_reason: str | None = strawberry.field(
        description="TARGET_PRECISION, MAX_ITEMS, POOL_SPENT, TIME_LIMIT or SUBMITTED; null "
        "while the test goes on."
    )


async def adaptive_settings_of(
    info: AssessmentsInfo, assessment_id: uuid.UUID
) -> AdaptiveSettings | None:
    row = await info.context.loaders.adaptive_settings.load(assessment_id)
    if row is None:
        return None
    return AdaptiveSettings(
        target_standard_error=row.target_se,
        max_items=row.max_items,
        randomesque=row.randomesque,
        max_exposure=row.max_exposure,
        scale_min=row.scale_low,
        scale_max=row.scale_high,
    )


async def current_question_of(info: AssessmentsInfo, attempt: AttemptRow) -> Question | None:
    """The question an adaptive attempt in progress waits for; None otherwise."""
    if attempt.status != AttemptStatus.IN_PROGRESS:
        return None
    if await info.context.loaders.adaptive_settings.load(attempt.assessment_id) is None:
        return None
    current = attempt.question_ids[-1]
    answered = {row.question_id for row in await info.context.loaders.answers.load(attempt.id)}
    if current in answered:
        return None
    question = await info.context.loaders.question.load(current)
    return None if question is None else question_of(question, key_visible=False)


async def ability_of(info: AssessmentsInfo, attempt: AttemptRow) -> AbilityEstimate | None:
    settings = await info.context.loaders.adaptive_settings.load(attempt.assessment_id)
    state = await info.context.loaders.adaptive_state.load(attempt.id)
    if settings is None or state is None:
        return None
    scale = scale_of(settings)
    return AbilityEstimate(
        score=scale.score(state.theta),
        standard_error=scale.error(state.standard_error),
        theta=state.theta,
        theta_standard_error=state.standard_error,
        method=state.method,
        items_answered=state.items,
        stop_reason=state.stop_reason,
    )
