"""The use case: a learner's "what next", from the analytics store's co-enrollment counts
and the courses subgraph's content similarity, blended (similarity.py), filtered to the
catalogue and explained (reasons.py); and the learning paths that lead through what is
recommended. Who may ask: guards.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subgraphs.analytics.recommendations import store
from subgraphs.analytics.recommendations.catalogue import Catalogue, CatalogueCourse
from subgraphs.analytics.recommendations.reasons import path_reasons, reasons
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
PATH_STARTED_BONUS: Final = 0.5  # a path whose courses the learner has all but finished


@dataclass(frozen=True, slots=True)
class Recommendation:
    course_id: uuid.UUID
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PathRecommendation:
    path_id: uuid.UUID
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Ranking:
    """Everything recommendable to the learner, best first, and what explains it."""

    taken: frozenset[uuid.UUID]
    offered: list[Scored[uuid.UUID]]
    courses: dict[uuid.UUID, CatalogueCourse]  # the caller may see them
    categories: frozenset[str]  # of the learner's courses


class Recommender:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def recommend(
        self, user_id: uuid.UUID, first: int, catalogue: Catalogue
    ) -> list[Recommendation]:
        """The `first` best courses for the learner that they have not taken and the
        catalogue offers; a learner without courses gets the most taken ones."""
        ranking = await self.ranking(user_id, catalogue)
        return [
            Recommendation(
                item.course,
                round(item.score, 4),
                tuple(reasons(item, ranking.courses, ranking.categories)),
            )
            for item in ranking.offered[:first]
        ]

    async def recommend_paths(
        self, user_id: uuid.UUID, first: int, catalogue: Catalogue
    ) -> list[PathRecommendation]:
        """Learning paths with courses ahead of the learner, by the mean score of those
        courses (not recommended: zero), raised by the share of the path already taken."""
        ranking = await self.ranking(user_id, catalogue)
        paths = await catalogue.learning_paths()
        unknown = {c for path in paths for c in path.course_ids} - ranking.courses.keys()
        courses = {**ranking.courses, **await catalogue.courses(sorted(unknown))}
        scores = {item.course: item.score for item in ranking.offered}
        found = []
        for path in paths:
            ahead = [
                c
                for c in path.course_ids
                if c not in ranking.taken and c in courses and courses[c].recommendable
            ]
            done = [c for c in path.course_ids if c in ranking.taken]
            if not ahead:
                continue
            fit = sum(scores.get(c, 0.0) for c in ahead) / len(ahead)
            score = fit + PATH_STARTED_BONUS * len(done) / len(path.course_ids)
            if score <= 0:
                continue
            best = max(ahead, key=lambda c: scores.get(c, 0.0))
            said = path_reasons(done, best if best in scores else None, courses)
            found.append((path, PathRecommendation(path.id, round(score, 4), tuple(said))))
        found.sort(key=lambda pair: (-pair[1].score, pair[0].title, pair[0].id))
        return [recommendation for _, recommendation in found[:first]]

    async def ranking(self, user_id: uuid.UUID, catalogue: Catalogue) -> Ranking:
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
        categories = frozenset(
            course.category
            for course_id in sources
            if (course := courses.get(course_id)) is not None and course.category is not None
        )
        offered = [
            _with_category_bonus(item, courses[item.course].category in categories)
            for item in pool
            if item.course in courses and courses[item.course].recommendable
        ]
        offered.sort(key=lambda item: (-item.score, -item.popularity, str(item.course)))
        return Ranking(frozenset(taken), offered, courses, categories)


def _with_category_bonus(item: Scored[uuid.UUID], in_category: bool) -> Scored[uuid.UUID]:
    return replace(item, score=item.score + CATEGORY_BONUS) if in_category else item
