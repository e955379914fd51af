"""GraphQL surface of recommendations: `User.recommendations` and
`User.recommendedLearningPaths` (their resolvers are a base of the User entity in
schema.py) and their items. The use case: recommendations/recommender.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Final

import strawberry

from common.errors import BadUserInput
from common.graphql.access import signed_in
from common.graphql.ids import graphql_id, parse_id
from subgraphs.analytics.guards import may_read_recommendations
from subgraphs.analytics.loaders import AnalyticsInfo

if TYPE_CHECKING:
    from subgraphs.analytics.schema import Course

MAX_RECOMMENDATIONS: Final = 50
MAX_PATHS: Final = 20


def _bounded_first(first: int, maximum: int) -> int:
    if not 1 <= first <= maximum:
        raise BadUserInput(f"first must be from 1 to {maximum}.", field="first")
    return first


@strawberry.federation.type(keys=["id"], description="Courses to take in order.")
class LearningPath:
    id: strawberry.ID


@strawberry.type(description="A course recommended to a learner, and why.")
class Recommendation:
    course: Annotated[Course, strawberry.lazy("subgraphs.analytics.schema")]
    score: float = strawberry.field(
        description="How strongly it is recommended, for ordering (not a probability)."
    )
    reasons: list[str] = strawberry.field(
        description='Why, for the learner to read: "Learners who completed Python Basics also '
        'took this", "Similar to Data Analysis with Pandas", "Popular in Data Science"…'
    )


@strawberry.type(description="A learning path recommended to a learner, and why.")
class LearningPathRecommendation:
    learning_path: LearningPath
    score: float = strawberry.field(description="For ordering (not a probability).")
    reasons: list[str] = strawberry.field(
        description='Why: "You took Python Basics of this path", "Leads to Machine Learning, '
        'recommended for you".'
    )


@strawberry.type
class LearnerRecommendations:
    id: strawberry.ID

    @strawberry.field(
        extensions=[signed_in()],
        description="What to learn next (the learner themself and administrators): published "
        "courses they have not taken, from what learners with the same courses took next and "
        "from courses like theirs; for a learner without courses, the most taken ones.",
    )
    async def recommendations(self, info: AnalyticsInfo, first: int = 10) -> list[Recommendation]:
        from subgraphs.analytics.schema import Course

        user_id = parse_id(self.id)
        may_read_recommendations(info, user_id)
        found = await info.context.service.recommender.recommend(
            user_id, _bounded_first(first, MAX_RECOMMENDATIONS), info.context.loaders.catalogue
        )
        return [
            Recommendation(
                course=Course(id=graphql_id(item.course_id)),
                score=item.score,
                reasons=list(item.reasons),
            )
            for item in found
        ]

    @strawberry.field(
        extensions=[signed_in()],
        description="Learning paths with courses ahead of the learner (themself and "
        "administrators), those leading through their recommended courses and those they "
        "have started first.",
    )
    async def recommended_learning_paths(
        self, info: AnalyticsInfo, first: int = 3
    ) -> list[LearningPathRecommendation]:
        user_id = parse_id(self.id)
        may_read_recommendations(info, user_id)
        found = await info.context.service.recommender.recommend_paths(
            user_id, _bounded_first(first, MAX_PATHS), info.context.loaders.catalogue
        )
        return [
            LearningPathRecommendation(
                learning_path=LearningPath(id=graphql_id(item.path_id)),
                score=item.score,
                reasons=list(item.reasons),
            )
            for item in found
        ]
