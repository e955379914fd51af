"""The GraphQL surface of at-risk prediction: `Course.atRiskLearners` for the course's
instructors and administrators, and `User.atRisk(courseId)`, which shows a learner their own
prediction only where the institution allows it (LMS_AT_RISK_VISIBLE_TO_LEARNERS).

With no active model (never trained, or no training good enough yet) the answer is empty and
says so: `modelVersion: null`, no learners — not an error, since nothing is wrong with the
question. schema.py registers these fields on its Course and User.
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Final

import strawberry

from common.errors import BadUserInput, Forbidden
from common.graphql.ids import graphql_id, parse_id
from subgraphs.analytics.at_risk_service import FLAG, level_of
from subgraphs.analytics.guards import may_read_course
from subgraphs.analytics.loaders import AnalyticsInfo
from subgraphs.analytics.models import AtRiskScoreRow

if TYPE_CHECKING:
    from subgraphs.analytics.schema import User

MAX_FIRST: Final = 500
LazyUser = Annotated["User", strawberry.lazy("subgraphs.analytics.schema")]


@strawberry.enum(description="How likely the learner is not to complete or to fail.")
class AtRiskLevel(Enum):
    HIGH = "HIGH"  # 75 % or more
    MEDIUM = "MEDIUM"  # 50 % to 75 %
    LOW = "LOW"  # under 50 %


@strawberry.type(description="One active enrollment's latest at-risk prediction.")
class AtRiskLearner:
    user: LazyUser
    probability: float = strawberry.field(
        description="Probability (0..1) of not completing the course or failing it."
    )
    level: AtRiskLevel
    reasons: list[str] = strawberry.field(
        description="What pushes the probability up most, in words (strongest first)."
    )
    model_version: int
    scored_at: datetime
    flagged_at: datetime | None = strawberry.field(
        description="Since when the learner has been at risk (50 % or more), if they are."
    )


@strawberry.type(description="A course's learners at risk, by the active model.")
class AtRiskLearners:
    model_version: int | None = strawberry.field(
        description="The active model's version; null when no model is active (no learners)."
    )
    learners: list[AtRiskLearner] = strawberry.field(description="Riskiest first.")


def learner_of(row: AtRiskScoreRow) -> AtRiskLearner:
    from subgraphs.analytics.schema import User

    return AtRiskLearner(
        user=User(id=graphql_id(row.user_id)),
        probability=round(row.probability, 4),
        level=AtRiskLevel(level_of(row.probability)),
        reasons=list(row.reasons),
        model_version=row.model_version,
        scored_at=row.scored_at,
        flagged_at=row.flagged_at,
    )


async def at_risk_learners(
    root: Any,
    info: AnalyticsInfo,
    first: Annotated[int, strawberry.argument(description="At most 500.")] = 50,
    min_probability: Annotated[
        float, strawberry.argument(description="From 0 to 1; 0 lists every scored learner.")
    ] = FLAG,
) -> AtRiskLearners:
    course = await may_read_course(info, parse_id(root.id))
    if not 1 <= first <= MAX_FIRST:
        raise BadUserInput(f"first must be from 1 to {MAX_FIRST}.", field="first")
    if not (math.isfinite(min_probability) and 0.0 <= min_probability <= 1.0):
        raise BadUserInput("minProbability must be from 0 to 1.", field="minProbability")
    at_risk = info.context.service.at_risk
    version = await at_risk.active_version()
    if version is None:
        return AtRiskLearners(model_version=None, learners=[])
    rows = await at_risk.course_scores(course.id, min_probability, first, course.instructor_ids)
    return AtRiskLearners(model_version=version, learners=[learner_of(row) for row in rows])


async def learner_at_risk(
    root: Any, info: AnalyticsInfo, course_id: strawberry.ID
) -> AtRiskLearner | None:
    user_id = parse_id(root.id)
    course = parse_id(course_id, field="courseId")
    principal = info.context.require_principal()
    at_risk = info.context.service.at_risk
    if principal.user_id == user_id and not principal.is_admin:
        if not at_risk.policy.visible_to_learners:
            raise Forbidden("This institution does not show learners their at-risk prediction.")
    elif not principal.is_admin:  # a course one does not teach, or none: the same answer
        facts = await info.context.loaders.course.load(course)
        if facts is None or not facts.taught_by(principal.user_id):
            raise Forbidden(
                "Only the course's instructors and administrators see a learner's prediction."
            )
    row = await at_risk.learner_score(user_id, course)
    return None if row is None else learner_of(row)
