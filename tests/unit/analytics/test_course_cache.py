"""The analytics reads' cache of courses' answers: per caller, for its seconds, never a
course not found."""

from __future__ import annotations

import uuid

from strawberry.dataloader import DataLoader

from common.graphql.catalog import CourseFacts
from subgraphs.analytics.course_cache import CourseFactsCache


def _facts(course_id: uuid.UUID, teacher: uuid.UUID) -> CourseFacts:
    return CourseFacts(course_id, "Kept", "PUBLISHED", frozenset({teacher}), (), frozenset())


async def test_answers_are_kept_per_caller_for_their_seconds_and_misses_are_not() -> None:
    now = [0.0]
    cache = CourseFactsCache(10, clock=lambda: now[0])
    course, missing, teacher = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    asked: list[tuple[str, list[uuid.UUID]]] = []
    answers = {course: _facts(course, teacher)}

    def caller(token: str) -> DataLoader[uuid.UUID, CourseFacts | None]:
        async def load(ids: list[uuid.UUID]) -> list[CourseFacts | None]:
            asked.append((token, ids))
            return [answers.get(item) for item in ids]

        return cache.loader(load, f"Bearer {token}")

    assert await caller("a").load(course) == answers[course]
    assert await caller("a").load(course) == answers[course]  # another request: kept
    assert await caller("a").load(missing) is None
    assert await caller("a").load(missing) is None  # not found: asked again
    assert await caller("b").load(course) == answers[course]  # another caller: asked
    now[0] = 10.5
    assert await caller("a").load(course) == answers[course]  # expired: asked
    assert asked == [
        ("a", [course]),
        ("a", [missing]),
        ("a", [missing]),
        ("b", [course]),
        ("a", [course]),
    ]


async def test_no_seconds_or_no_caller_asks_every_time() -> None:
    course = uuid.uuid4()
    calls: list[list[uuid.UUID]] = []

    async def load(ids: list[uuid.UUID]) -> list[CourseFacts | None]:
        calls.append(ids)
        return [_facts(course, uuid.uuid4())]

    for cache, authorization in ((CourseFactsCache(0), "Bearer x"), (CourseFactsCache(10), None)):
        await cache.loader(load, authorization).load(course)
        await cache.loader(load, authorization).load(course)
    assert len(calls) == 4
