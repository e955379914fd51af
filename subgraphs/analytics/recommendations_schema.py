"""GraphQL surface of recommendations: `User.recommendations` (the resolver is a base of
the User entity in schema.py) and its items. The use case: recommendations/recommender.py."""

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

        if not 1 <= first <= MAX_RECOMMENDATIONS:
            raise BadUserInput(f"first must be from 1 to {MAX_RECOMMENDATIONS}.", field="first")
        user_id = parse_id(self.id)
        may_read_recommendations(info, user_id)
        found = await info.context.service.recommender.recommend(
            user_id, first, info.context.loaders.catalogue
        )
        return [
            Recommendation(
                course=Course(id=graphql_id(item.course_id)),
                score=item.score,
                reasons=list(item.reasons),
            )
            for item in found
        ]
