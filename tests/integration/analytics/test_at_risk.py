"""At-risk prediction wired into the platform: a history of finished enrollments of both
outcomes stored through the analytics service layer, `lms analytics train-at-risk` and
`rescore-at-risk` run as an operator would, `Course.atRiskLearners` and `User.atRisk` through
the router with who may see them (learners only where the institution allows it), and the
instructors' digest through the notifications
worker (once per learner flagged, none to an instructor who turned the category off)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.db import create_engine, service_dsn, session_factory
from common.infra.ports import free_port
from common.settings import Settings
from subgraphs.analytics.at_risk_service import AtRiskService
from subgraphs.analytics.models import EVENTS as ANALYTICS_EVENTS
from subgraphs.analytics.partitions import Partitions, create_partition, month_of
from subgraphs.analytics.services import at_risk_policy
from subgraphs.analytics.statements import NewStatement, record
from subgraphs.analytics.vocabulary import ActivityType, Verb
from subgraphs.notifications.models import EVENTS as NOTIFICATION_EVENTS
from tests.accounts import Account, register
from tests.cli.lms_process import lms_environment, one_error_line, run_lms
from tests.conftest import serve_router, subgraph_app
from tests.integration.analytics.conftest import course_with_learners
from tests.support import GraphQLClient, error_codes, eventually, serve

AT_RISK = """
query($c: ID!, $first: Int, $min: Float) {
  course(id: $c) {
    atRiskLearners(first: $first, minProbability: $min) {
      modelVersion
      learners { user { id } probability level reasons modelVersion scoredAt flaggedAt }
    }
  }
}
"""
OWN = "query($u: ID!, $c: ID!) { user(id: $u) { atRisk(courseId: $c) { probability reasons } } }"
PREFERENCES = """
mutation($p: [PreferenceInput!]!) {
  updateNotificationPreferences(input: {preferences: $p}) {
    user { notificationPreferences { category channel frequency } }
  }
}
"""
INBOX = """
{ notifications(category: AT_RISK, first: 20) { edges { node { title body course { id } } } } }
"""
TODAY = datetime.now(UTC).date()


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), UTC)


def statement(
    learner: uuid.UUID, course: uuid.UUID, day: date, verb: Verb, **fields: Any
) -> NewStatement:
    values: dict[str, Any] = {"object_type": ActivityType.LESSON, "object_id": uuid.uuid4()}
    values.update(fields)
    return NewStatement(
        id=uuid.uuid4(),
        actor_id=learner,
        verb=verb,
        timestamp=at(day),
        course_id=course,
        **values,
    )


def active_day(
    learner: uuid.UUID, course: uuid.UUID, day: date, lesson: uuid.UUID | None, score: float | None
) -> list[NewStatement]:
    """A day of study: a lesson viewed for 20 minutes, maybe completed, maybe a graded quiz."""
    made = [statement(learner, course, day, Verb.VIEWED, duration_seconds=1200)]
    if lesson is not None:
        made.append(statement(learner, course, day, Verb.COMPLETED, object_id=lesson))
    if score is not None:
        graded = Verb.PASSED if score >= 0.5 else Verb.FAILED
        made.append(
            statement(
                learner,
                course,
                day,
                graded,
                object_type=ActivityType.ASSESSMENT,
                score_scaled=score,
                success=score >= 0.5,
            )
        )
    return made


def finished_course(course: uuid.UUID, start: date, learners: int) -> list[NewStatement]:
    """A six-week course long over: half its learners studied most days, passed their quizzes
    and completed it; the other half studied a few days, failed a quiz and vanished. Two
    surprise the model (no model is perfect): the last steady one vanishes after four weeks,
    the last fading one comes back at the end and completes with no quiz failed."""
    lessons = [uuid.uuid4() for _ in range(12)]
    made: list[NewStatement] = []
    for index in range(learners):
        learner = uuid.uuid4()
        made.append(
            statement(
                learner,
                course,
                start,
                Verb.REGISTERED,
                object_type=ActivityType.COURSE,
                object_id=course,
            )
        )
        surprise = index >= learners - 2
        if index % 2 == 0:
            last = 28 if surprise else 42
            studied = [d for d in range(last) if d % 7 not in (5, 6 - index % 3)]
            for n, d in enumerate(studied):
                quiz = 0.75 + 0.02 * (index % 5) if d % 7 == 3 else None
                lesson = lessons[n // 2] if n % 2 == 0 and n // 2 < len(lessons) else None
                made.extend(active_day(learner, course, start + timedelta(days=d), lesson, quiz))
            if surprise:
                continue
            made.append(
                statement(
                    learner,
                    course,
                    start + timedelta(days=42),
                    Verb.COMPLETED,
                    object_type=ActivityType.COURSE,
                    object_id=course,
                )
            )
        else:
            for d in range(1 + index % 4, 10 + index % 5, 3):
                quiz = None if surprise else 0.3 if d > 6 else None
                made.extend(active_day(learner, course, start + timedelta(days=d), None, quiz))
            if surprise:
                for d in (38, 40):
                    made.extend(active_day(learner, course, start + timedelta(days=d), None, 0.8))
                made.append(
                    statement(
                        learner,
                        course,
                        start + timedelta(days=41),
                        Verb.COMPLETED,
                        object_type=ActivityType.COURSE,
                        object_id=course,
                    )
                )
    return made


@pytest.fixture
async def analytics_sessions(migrated: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(service_dsn(migrated, "analytics"), pool_size=2)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def store(sessions: async_sessionmaker[AsyncSession], items: list[NewStatement]) -> None:
    """Through the worker's path (statements.record), in one transaction, the months'
    partitions made first (committed, so that each insert need not check again)."""
    partitions = Partitions(sessions)
    for month in sorted({month_of(item.timestamp) for item in items}):
        async with sessions() as session, session.begin():
            await create_partition(session, month)
    async with sessions() as session, session.begin():
        for item in items:
            await record(session, partitions, item)


async def lms(*args: str) -> Any:
    return await asyncio.to_thread(run_lms, *args, env=lms_environment())


async def digests_for(sessions: async_sessionmaker[AsyncSession], course_id: str) -> list[str]:
    """Ids of the digest events the analytics outbox holds for the course."""
    outbox = ANALYTICS_EVENTS.outbox
    async with sessions() as session:
        rows = await session.execute(
            select(outbox.c.id, outbox.c.envelope).where(
                outbox.c.type == "analytics.at_risk_digest"
            )
        )
        return [str(i) for i, envelope in rows if envelope["data"]["course_id"] == course_id]


async def test_training_with_too_little_data_fails_in_one_line(migrated: Settings) -> None:
    done = await lms("analytics", "train-at-risk")
    assert done.returncode == 1, done.stderr
    assert re.fullmatch(
        r"error: lms analytics train-at-risk: training needs at least (20 finished "
        r"enrollments \(completed, or not seen for 60 days\); found \d+|5 completed "
        r"enrollments of each outcome; got \d+ at risk and \d+ not)",
        one_error_line(done),
    ), done.stderr
    rescored = await lms("analytics", "rescore-at-risk")
    assert rescored.stdout.strip() == "no active model: nothing scored"


async def test_instructors_see_scored_learners_and_get_one_digest_of_the_new_ones(
    graph: GraphQLClient,
    instructor: Account,
    other_instructor: Account,
    admin: Account,
    analytics_sessions: async_sessionmaker[AsyncSession],
    migrated: Settings,
    subgraph_urls: dict[str, str],
    http: httpx.AsyncClient,
) -> None:
    slipping = await register(graph, name="Sam Slipping")
    steady = await register(graph, name="Eve Steady")
    faded = await register(graph, name="Bob Faded")
    course = await course_with_learners(graph, instructor, admin, [slipping, steady], "Risky")
    other = await course_with_learners(graph, other_instructor, admin, [faded], "Other Risky")
    anonymous = await graph.execute(AT_RISK, {"c": course["id"]})
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]

    # Two courses long over, 14 learners each, then this term's learners: Eve studies every
    # day and passes; Sam and Bob stopped three weeks ago after failing their quizzes.
    history: list[NewStatement] = []
    for weeks_ago in (30, 24):
        history += finished_course(uuid.uuid4(), TODAY - timedelta(weeks=weeks_ago), 14)
    lessons = [uuid.UUID(lesson["id"]) for lesson in course["lessons"]]
    course_id, other_id = uuid.UUID(course["id"]), uuid.UUID(other["id"])
    for n, d in enumerate(range(35, 0, -1)):
        lesson = lessons[n] if n < len(lessons) else None
        score = 0.85 if d % 7 == 0 else None
        history += active_day(
            uuid.UUID(steady.id), course_id, TODAY - timedelta(days=d), lesson, score
        )
    for learner, course_of in ((slipping, course_id), (faded, other_id)):
        for d in (35, 31, 27, 24, 22):
            score = 0.25 if d < 30 else None
            history += active_day(
                uuid.UUID(learner.id), course_of, TODAY - timedelta(days=d), None, score
            )
    await store(analytics_sessions, history)

    before = await graph.data(AT_RISK, {"c": course["id"]}, token=instructor.access_token)
    if before["course"]["atRiskLearners"]["modelVersion"] is None:  # no model trained yet
        assert before["course"]["atRiskLearners"]["learners"] == []
    trained = await lms("analytics", "train-at-risk")
    assert trained.returncode == 0, trained.stderr
    found = re.fullmatch(
        r"model version (\d+) trained from (\d+) finished enrollments \(\d+ weekly snapshots\): "
        r"cross-validated AUC (0\.\d+|1\.000), Brier 0\.\d+, calibration error 0\.\d+; active",
        trained.stdout.strip(),
    )
    assert found, trained.stdout
    version, size = int(found[1]), int(found[2])
    assert size >= 28
    assert float(found[3]) >= 0.7
    rescored = await lms("analytics", "rescore-at-risk")
    assert re.fullmatch(r"scored \d+ active enrollments", rescored.stdout.strip()), rescored

    # The course's instructor: the learners by probability, with the model and the reasons.
    everyone = await graph.data(
        AT_RISK, {"c": course["id"], "min": 0.0}, token=instructor.access_token
    )
    report = everyone["course"]["atRiskLearners"]
    assert report["modelVersion"] == version
    by_user = {item["user"]["id"]: item for item in report["learners"]}
    assert [item["user"]["id"] for item in report["learners"]] == [slipping.id, steady.id]
    sam, eve = by_user[slipping.id], by_user[steady.id]
    assert sam["probability"] >= 0.5 > eve["probability"]
    assert sam["level"] in ("HIGH", "MEDIUM")
    assert eve["level"] == "LOW"
    facts = {
        "not seen for 22 days",
        "3 of 3 assessments below 50 %",
        "active on 0 of the last 14 days",
    }
    assert 1 <= len(sam["reasons"]) <= 3
    assert set(sam["reasons"]) & facts, sam  # each reason one of the facts of Sam's record
    assert sam["modelVersion"] == version
    assert sam["flaggedAt"]
    assert eve["flaggedAt"] is None
    assert datetime.fromisoformat(sam["scoredAt"]) > datetime.now(UTC) - timedelta(minutes=5)
    flagged = await graph.data(AT_RISK, {"c": course["id"]}, token=instructor.access_token)
    assert [i["user"]["id"] for i in flagged["course"]["atRiskLearners"]["learners"]] == [
        slipping.id
    ]
    by_admin = await graph.data(AT_RISK, {"c": course["id"], "first": 1}, token=admin.access_token)
    assert len(by_admin["course"]["atRiskLearners"]["learners"]) == 1
    own = await graph.data(
        OWN, {"u": slipping.id, "c": course["id"]}, token=instructor.access_token
    )
    assert own["user"]["atRisk"]["probability"] == sam["probability"]

    # Nobody else: another course's instructor, the learner concerned, another learner.
    for caller in (other_instructor, slipping, steady):
        body = await graph.execute(AT_RISK, {"c": course["id"]}, token=caller.access_token)
        assert error_codes(body) == ["FORBIDDEN"], body
    for caller, user in ((slipping, slipping), (steady, slipping), (other_instructor, slipping)):
        body = await graph.execute(
            OWN, {"u": user.id, "c": course["id"]}, token=caller.access_token
        )
        assert error_codes(body) == ["FORBIDDEN"], body
    for arguments in ({"first": 0}, {"first": 10000}, {"min": 2.0}, {"min": -0.1}):
        body = await graph.execute(
            AT_RISK, {"c": course["id"], **arguments}, token=instructor.access_token
        )
        assert error_codes(body) == ["BAD_USER_INPUT"], (arguments, body)
    mistyped = await graph.execute(
        AT_RISK, {"c": course["id"], "first": "ten"}, token=instructor.access_token
    )
    assert error_codes(mistyped) == ["BAD_USER_INPUT"]  # a variable of the wrong type
    not_an_id = await graph.execute(AT_RISK, {"c": "not-a-course"}, token=instructor.access_token)
    assert error_codes(not_an_id) == ["BAD_USER_INPUT"]

    # The digest: the other course's instructor turned the category off (in-app and e-mail).
    off = [
        {"category": "AT_RISK", "channel": channel, "frequency": "OFF"}
        for channel in ("IN_APP", "EMAIL")
    ]
    await graph.data(PREFERENCES, {"p": off}, token=other_instructor.access_token)
    sent = await lms("analytics", "send-at-risk-digest")
    assert re.fullmatch(r"sent \d+ course digests of new at-risk learners", sent.stdout.strip())
    [other_digest] = await digests_for(analytics_sessions, other["id"])

    async def delivered() -> list[dict[str, Any]] | None:
        inbox = await graph.data(INBOX, token=instructor.access_token)
        nodes = [edge["node"] for edge in inbox["notifications"]["edges"]]
        return [node for node in nodes if node["course"]["id"] == course["id"]] or None

    [notice] = await eventually(delivered)
    assert notice["title"] == "1 new at-risk learner in Risky"
    assert notice["body"].startswith(f"Sam Slipping ({round(sam['probability'] * 100)} %: ")
    assert "Eve" not in notice["body"]
    await _consumed(migrated, other_digest)  # handled by the notifications worker: no one told
    silent = await graph.data(INBOX, token=other_instructor.access_token)
    assert silent["notifications"]["edges"] == []

    # Scored and digested again: Sam is still at risk, but not new; no second digest.
    assert (await lms("analytics", "rescore-at-risk")).returncode == 0
    assert (await lms("analytics", "send-at-risk-digest")).returncode == 0
    assert len(await digests_for(analytics_sessions, course["id"])) == 1
    assert len(await delivered() or []) == 1

    # A training that measures below the bar is stored, not activated: the model stays.
    strict = await asyncio.to_thread(
        run_lms, "analytics", "train-at-risk", env=lms_environment(LMS_AT_RISK_MIN_AUC="0.9999")
    )
    assert strict.returncode == 0, strict.stderr
    assert re.fullmatch(
        rf"model version {version + 1} trained from .*; not activated: its cross-validated "
        r"AUC 0\.\d+ is below 0\.9999",
        strict.stdout.strip(),
    ), strict.stdout
    kept = await graph.data(AT_RISK, {"c": course["id"]}, token=instructor.access_token)
    assert kept["course"]["atRiskLearners"]["modelVersion"] == version

    # An institution that shows learners their own prediction: Sam sees his, not Eve's.
    shown = dataclasses.replace(migrated, at_risk_visible_to_learners=True)
    async with (
        serve(subgraph_app("analytics", shown), free_port()) as url,
        serve_router({**subgraph_urls, "analytics": url}, migrated) as router_url,
    ):
        router = GraphQLClient(http, f"{router_url}/graphql")
        mine = await router.data(
            OWN, {"u": slipping.id, "c": course["id"]}, token=slipping.access_token
        )
        assert mine["user"]["atRisk"] == {
            "probability": sam["probability"],
            "reasons": sam["reasons"],
        }
        theirs = await router.execute(
            OWN, {"u": steady.id, "c": course["id"]}, token=slipping.access_token
        )
        assert error_codes(theirs) == ["FORBIDDEN"]
        listed = await router.execute(AT_RISK, {"c": course["id"]}, token=slipping.access_token)
        assert error_codes(listed) == ["FORBIDDEN"]


async def _consumed(settings: Settings, event_id: str) -> None:
    engine = create_engine(service_dsn(settings, "notifications"), pool_size=1)
    inbox = NOTIFICATION_EVENTS.inbox
    try:
        sessions = session_factory(engine)

        async def seen() -> bool:
            async with sessions() as session:
                found = await session.scalar(
                    select(inbox.c.event_id).where(inbox.c.event_id == uuid.UUID(event_id))
                )
            return found is not None

        await eventually(seen)
    finally:
        await engine.dispose()


async def test_a_scheduled_job_is_claimed_once_per_period(
    analytics_sessions: async_sessionmaker[AsyncSession], migrated: Settings
) -> None:
    """Two workers (or a restarted one) do not both run a job of the period."""
    service = AtRiskService(analytics_sessions, at_risk_policy(migrated), None)
    job = f"test-{uuid.uuid4().hex[:8]}"
    claims = await asyncio.gather(*(service.claim_if_due(job, 24) for _ in range(3)))
    assert sorted(claims) == [False, False, True]
    assert await service.claim_if_due(job, 24) is False
