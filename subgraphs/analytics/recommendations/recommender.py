"""The use case: a learner's "what next", from the analytics store's co-enrollment counts
and the courses subgraph's content similarity, blended (similarity.py), filtered to the
catalogue and explained (reasons.py). Who may ask: guards.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subgraphs.analytics.recommendations import store
from subgraphs.analytics.recommendations.catalogue import Catalogue
from subgraphs.analytics.recommendations.reasons import reasons
from subgraphs.analytics.recommendations.similarity import (
    Scored,
    blend,
    collaborative,
    content,
    popularity,
)

SIMILAR_PER_COURSE: Final = 20  # content neighbours asked for per course taken
POPULAR_POOL: Final = 100  # most-taken courses considered (cold start, and to fill)
CATEGORY_BONUS: Final = 0.05  # a course in a category of the learner's courses, ranked up
POOL: Final = 200  # blended candidates checked against the catalogue


@dataclass(frozen=True, slots=True)
class Recommendation:
    course_id: uuid.UUID
    score: float
    reasons: tuple[str, ...]


class Recommender:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def recommend(
        self, user_id: uuid.UUID, first: int, catalogue: Catalogue
    ) -> list[Recommendation]:
        """The `first` best courses for the learner that they have not taken and the
        catalogue offers; a learner without courses gets the most taken ones."""
        async with self._sessions() as session:
            taken = await store.taken(session, user_id)
            sources = list(taken)[: store.MAX_SOURCES]
            counts = await store.co_counts(session, sources)
            popular = await store.most_taken(session, POPULAR_POOL)
        similar = await catalogue.similar(sources, SIMILAR_PER_COURSE)
        by_content = content(sources, similar)
        co_taken = {target for _, target in counts}
        async with self._sessions() as session:
            learners = await store.takers(
                session, set(sources) | co_taken | set(by_content) | set(popular)
            )
        by_collaboration = collaborative(taken.keys(), counts, learners)
        pool = blend(
            by_collaboration, by_content, popularity(learners), exclude=taken.keys(), first=POOL
        )
        courses = await catalogue.courses([*sources, *(item.course for item in pool)])
        categories = {
            course.category
            for course_id in sources
            if (course := courses.get(course_id)) is not None and course.category is not None
        }
        offered = [
            _with_category_bonus(item, courses[item.course].category in categories)
            for item in pool
            if item.course in courses and courses[item.course].recommendable
        ]
        offered.sort(key=lambda item: (-item.score, -item.popularity, str(item.course)))
        return [
            Recommendation(
                item.course, round(item.score, 4), tuple(reasons(item, courses, categories))
            )
            for item in offered[:first]
        ]


def _with_category_bonus(item: Scored[uuid.UUID], in_category: bool) -> Scored[uuid.UUID]:
    return replace(item, score=item.score + CATEGORY_BONUS) if in_category else item
