"""The aggregates behind learningProgress, items and cohorts, kept statement by statement by
the worker's rules, against the same computed from the raw statements, over weeks of
activity; and an attempt graded again counted once, with its last grade."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import astuple
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.db import create_engine, service_dsn, session_factory
from common.events.envelope import Event
from common.settings import Settings
from subgraphs.analytics.attempts import ItemResult
from subgraphs.analytics.course_stats import CourseStats, ItemTotals, Period
from subgraphs.analytics.drops import on_dropped, on_enrolled
from subgraphs.analytics.erasure import erase_user
from subgraphs.analytics.models import LearnerCohortRow
from subgraphs.analytics.partitions import Partitions
from subgraphs.analytics.statements import NewStatement, record
from subgraphs.analytics.vocabulary import ActivityType, Verb

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
async def sessions(migrated: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(service_dsn(migrated, "analytics"), pool_size=2)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def store(sessions: async_sessionmaker[AsyncSession], *items: NewStatement) -> None:
    partitions = Partitions(sessions)
    async with sessions() as session, session.begin():
        for item in items:
            assert await record(session, partitions, item)


def graded(
    course: uuid.UUID,
    learner: uuid.UUID,
    assessment: uuid.UUID,
    attempt: uuid.UUID,
    moment: datetime,
    results: list[tuple[uuid.UUID, float, float]],
) -> NewStatement:
    """submission.graded as ingestion.py makes it: (question, points, max points) each."""
    items = tuple(ItemResult(q, points, most, points >= most) for q, points, most in results)
    score = sum(item.points for item in items) / sum(item.max_points for item in items)
    return NewStatement(
        id=uuid.uuid4(),
        actor_id=learner,
        verb=Verb.PASSED if score >= 0.5 else Verb.FAILED,
        object_type=ActivityType.ASSESSMENT,
        object_id=assessment,
        timestamp=moment,
        course_id=course,
        score_scaled=score,
        success=score >= 0.5,
        completion=True,
        extensions={"attempt_id": str(attempt), "items": [i.as_json() for i in items]},
        items=items,
    )


def completed(
    course: uuid.UUID, learner: uuid.UUID, moment: datetime, progress: float
) -> NewStatement:
    return NewStatement(
        id=uuid.uuid4(),
        actor_id=learner,
        verb=Verb.COMPLETED,
        object_type=ActivityType.LESSON,
        object_id=uuid.uuid4(),
        timestamp=moment,
        course_id=course,
        completion=True,
        progress=progress,
    )


async def test_items_progress_and_cohorts_agree_with_the_statements_over_weeks(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    course, quiz = uuid.uuid4(), uuid.uuid4()
    easy, hard = uuid.uuid4(), uuid.uuid4()
    learners = [uuid.uuid4() for _ in range(6)]
    statements = []
    for week in range(5):  # five weeks back, each learner once a week
        moment = NOW - timedelta(weeks=week, hours=1)
        for rank, learner in enumerate(learners):
            hard_points = 2.0 if rank < 2 else (1.0 if rank < 4 else 0.0)
            results = [(easy, 1.0 if rank < 5 else 0.0, 1.0), (hard, hard_points, 2.0)]
            statements.append(graded(course, learner, quiz, uuid.uuid4(), moment, results))
    for day, progress in ((20, 0.25), (13, 0.5), (2, 0.75)):
        statements.append(completed(course, learners[0], NOW - timedelta(days=day), progress))
    await store(sessions, *statements)
    stats = CourseStats(sessions)
    since = (NOW - timedelta(weeks=6)).date()
    for period in Period:
        kept = await stats.items(course, None, since, period)
        raw = await stats.items_from_statements(course, None, since, period)
        assert _rounded(kept) == _rounded(raw), period
        assert len(kept) == 2
    by_question = {
        item.question_id: item.overall
        for item in await stats.items(course, quiz, since, Period.WEEK)
    }
    assert (by_question[easy].answers, by_question[easy].correct) == (30, 25)
    assert (by_question[hard].answers, by_question[hard].correct) == (30, 10)
    assert by_question[hard].mean_score == pytest.approx((2 * 1 + 2 * 0.5) / 6)
    hard_r = by_question[hard].discrimination
    easy_r = by_question[easy].discrimination
    assert hard_r is not None
    assert easy_r is not None
    assert 0 < easy_r < hard_r  # the hard question separates learners better
    assert await stats.items(course, uuid.uuid4(), since, Period.WEEK) == []

    days = await stats.progress_days(learners[0], course)
    assert [(d.lessons_completed, d.progress) for d in days] == [(1, 0.25), (2, 0.5), (3, 0.75)]
    grades = await stats.grades(learners[0], course, NOW - timedelta(days=8))
    assert len(grades) == 2  # this week's and last week's
    assert [g.graded_at for g in grades] == sorted(g.graded_at for g in grades)
    assert await stats.cohorts(course, NOW) == await stats.cohorts_from_statements(course, NOW)

    # Learners drop (the worker's handlers) and enrol again, some events handled out of
    # order: the cohorts still agree, the dropped learners counted apart.
    partitions = Partitions(sessions)
    for event_type, learner, minutes in (
        ("enrollment.dropped", learners[4], 30),
        ("enrollment.dropped", learners[5], 20),
        ("enrollment.created", learners[5], 10),  # back
        ("enrollment.created", learners[3], 5),  # back, handled before its drop
        ("enrollment.dropped", learners[3], 8),
        ("enrollment.dropped", learners[2], 3),  # gone, handled before an older enrolment
        ("enrollment.created", learners[2], 6),
    ):
        data = {"enrollment_id": str(uuid.uuid4()), "user_id": str(learner)}
        data["course_id"] = str(course)
        handle = on_dropped if event_type == "enrollment.dropped" else on_enrolled
        if event_type == "enrollment.created":
            data["course_title"] = "Measured"
        event = Event(event_type, data, "enrollments", occurred_at=NOW - timedelta(minutes=minutes))
        async with sessions() as session, session.begin():
            await handle(partitions)(session, event)
    [totals] = await stats.cohorts(course, NOW)
    assert (totals.learners, totals.active, totals.dropped) == (4, 4, 2)
    assert [totals] == await stats.cohorts_from_statements(course, NOW)


def _rounded(items: list[ItemTotals]) -> list[tuple[object, ...]]:
    """The questions' sums per period, to 9 places (floats added in another order)."""
    return [
        (item.assessment_id, item.question_id, start, *(round(v, 9) for v in astuple(sums)))
        for item in items
        for start, sums in item.periods
    ]


async def test_an_attempt_graded_again_counts_once_with_its_last_grade(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    course, quiz, question = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    learner, attempt = uuid.uuid4(), uuid.uuid4()
    first = graded(course, learner, quiz, attempt, NOW - timedelta(days=9), [(question, 0, 2)])
    regraded = graded(course, learner, quiz, attempt, NOW - timedelta(days=1), [(question, 2, 2)])
    late_old = graded(course, learner, quiz, attempt, NOW - timedelta(days=5), [(question, 1, 2)])
    await store(sessions, first)
    await store(sessions, regraded)
    await store(sessions, late_old)  # an older grade arriving after the newer: ignored
    stats = CourseStats(sessions)
    [item] = await stats.items(course, quiz, (NOW - timedelta(days=30)).date(), Period.WEEK)
    overall = item.overall
    assert (overall.answers, overall.correct, overall.score_sum) == (1, 1, 1.0)
    [grade] = await stats.grades(learner, course, NOW - timedelta(days=30))
    assert (grade.score, grade.passed, grade.graded_at) == (1.0, True, regraded.timestamp)


async def test_erasing_a_learner_drops_their_grades_and_cohort_but_not_the_questions_counts(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    course, quiz, question = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    leaving, staying = uuid.uuid4(), uuid.uuid4()
    moment = NOW - timedelta(hours=2)
    await store(
        sessions,
        *(
            graded(course, learner, quiz, uuid.uuid4(), moment, [(question, 1, 1)])
            for learner in (leaving, staying)
        ),
    )
    cohort = uuid.uuid4()
    async with sessions() as session, session.begin():
        for learner in (leaving, staying):
            await session.execute(
                insert(LearnerCohortRow).values(user_id=learner, course_id=course, cohort_id=cohort)
            )
        await erase_user(session, leaving)
    stats = CourseStats(sessions)
    since = NOW - timedelta(days=1)
    assert await stats.grades(leaving, course, since) == []
    assert len(await stats.grades(staying, course, since)) == 1
    [in_cohort] = await stats.cohorts(course, NOW)
    assert (in_cohort.cohort_id, in_cohort.learners) == (cohort, 1)
    [item] = await stats.items(course, quiz, since.date(), Period.WEEK)
    assert item.overall.answers == 2  # question totals name no one
