"""Dropped enrollments in analytics, through the router: a learner who drops a course
(`dropEnrollment`) leaves the instructor's cohort figures (counted as dropped), the inactive
learners and at-risk scoring and digests; enrolling again brings them back; the drop event
redelivered changes nothing (the inbox)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.db import create_engine, service_dsn, session_factory
from common.events import broker
from common.settings import Settings
from subgraphs.analytics.at_risk_history import course_history
from subgraphs.analytics.models import AtRiskScoreRow, LearnerCourseRow
from subgraphs.enrollments.models import EVENTS as ENROLLMENT_EVENTS
from tests.accounts import Account, register
from tests.integration.analytics.conftest import ENROLL, course_with_learners
from tests.support import GraphQLClient, error_codes, eventually

DROP = "mutation($id: ID!) { dropEnrollment(input: {id: $id}) { enrollment { status } } }"
VIEWS = """
query($c: ID!) {
  course(id: $c) {
    learningAnalytics {
      inactiveLearners(days: 3) { user { id } }
      cohorts { cohort { id } learners activeLastWeek completions dropped }
    }
  }
}
"""


@pytest.fixture
async def analytics(migrated: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(service_dsn(migrated, "analytics"), pool_size=2)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def views(graph: GraphQLClient, teacher: Account, course_id: str) -> dict[str, Any]:
    data = await graph.data(VIEWS, {"c": course_id}, token=teacher.access_token)
    analytics: dict[str, Any] = data["course"]["learningAnalytics"]
    return analytics


async def figures(graph: GraphQLClient, teacher: Account, course_id: str) -> tuple[int, int]:
    """(learners, dropped) of the course's one group (no cohorts here)."""
    [group] = (await views(graph, teacher, course_id))["cohorts"] or [None]
    return (group["learners"], group["dropped"]) if group else (0, 0)


async def drop_envelope(migrated: Settings, enrollment_id: str) -> dict[str, Any]:
    """The enrollment.dropped event as the enrollments outbox holds it."""
    engine = create_engine(service_dsn(migrated, "enrollments"), pool_size=1)
    outbox = ENROLLMENT_EVENTS.outbox
    try:
        async with session_factory(engine)() as session:
            envelopes = await session.scalars(
                select(outbox.c.envelope).where(outbox.c.type == "enrollment.dropped")
            )
            [found] = [e for e in envelopes if e["data"]["enrollment_id"] == enrollment_id]
    finally:
        await engine.dispose()
    envelope: dict[str, Any] = found
    return envelope


async def redeliver(migrated: Settings, envelope: dict[str, Any]) -> None:
    """The same event (same id) published again, as a relay retrying would."""
    connection = await aio_pika.connect(migrated.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await broker.declare_exchange(channel)
        await exchange.publish(
            aio_pika.Message(
                json.dumps(envelope).encode(),
                content_type="application/json",
                message_id=str(envelope["id"]),
                type=envelope["type"],
            ),
            routing_key=envelope["type"],
        )


async def test_a_dropped_learner_leaves_the_instructors_views_until_enrolling_again(
    graph: GraphQLClient,
    instructor: Account,
    admin: Account,
    analytics: async_sessionmaker[AsyncSession],
    migrated: Settings,
) -> None:
    ann, bob, cat = [await register(graph, name=n) for n in ("Ann Stays", "Bob Drops", "Cat")]
    course = await course_with_learners(graph, instructor, admin, [ann, cat], "Dropped")
    course_id = uuid.UUID(course["id"])
    enrolled = await graph.data(ENROLL, {"c": course["id"]}, token=bob.access_token)
    bobs = enrolled["enroll"]["enrollment"]["id"]
    assert await eventually(
        lambda: _is(figures(graph, instructor, course["id"]), (3, 0)), within=20
    )
    # Scores an earlier rescore left (Ann's and Bob's, Bob flagged and not yet in a digest).
    now = datetime.now(UTC)
    async with analytics() as session, session.begin():
        await session.execute(
            insert(AtRiskScoreRow).values(
                [
                    {
                        "user_id": uuid.UUID(who.id),
                        "course_id": course_id,
                        "probability": p,
                        "reasons": [],
                        "model_version": 1,
                        "scored_at": now,
                        "flagged_at": now if p >= 0.5 else None,
                    }
                    for who, p in ((ann, 0.2), (bob, 0.9))
                ]
            )
        )

    # Hostile drops change nothing: another learner's enrollment (not even shown to exist),
    # a malformed id.
    assert error_codes(await graph.execute(DROP, {"id": bobs}, token=ann.access_token)) == [
        "NOT_FOUND"
    ]
    malformed = await graph.execute(DROP, {"id": "not-an-id"}, token=bob.access_token)
    assert error_codes(malformed) == ["BAD_USER_INPUT"]
    dropped = await graph.data(DROP, {"id": bobs}, token=bob.access_token)
    assert dropped["dropEnrollment"]["enrollment"]["status"] == "DROPPED"
    again = await graph.execute(DROP, {"id": bobs}, token=bob.access_token)
    assert error_codes(again) == ["CONFLICT"]

    # Cohorts: Bob counted apart, as dropped.
    assert await eventually(
        lambda: _is(figures(graph, instructor, course["id"]), (2, 1)), within=20
    )
    async with analytics() as session:
        scored = set(
            await session.scalars(
                select(AtRiskScoreRow.user_id).where(AtRiskScoreRow.course_id == course_id)
            )
        )
        history = {str(h.user_id): h for h in await course_history(session, course_id, now)}
    assert scored == {uuid.UUID(ann.id)}  # out of the listing and the digest at once
    # Not scored again (finished), and learned from as an at-risk outcome ending today.
    assert (history[bob.id].at_risk, history[bob.id].ended_on) == (True, now.date())
    assert history[ann.id].at_risk is None
    assert history[cat.id].at_risk is None

    # Ten days later nobody was seen: Ann and Cat are inactive, Bob (dropped) is not.
    async with analytics() as session, session.begin():
        await session.execute(
            update(LearnerCourseRow)
            .where(LearnerCourseRow.course_id == course_id)
            .values(last_seen=LearnerCourseRow.last_seen - timedelta(days=10))
        )
    inactive = (await views(graph, instructor, course["id"]))["inactiveLearners"]
    assert {item["user"]["id"] for item in inactive} == {ann.id, cat.id}

    # Bob enrols again (the same enrollment): active once more (seen today, not inactive).
    again_enrolled = await graph.data(ENROLL, {"c": course["id"]}, token=bob.access_token)
    assert again_enrolled["enroll"]["enrollment"]["id"] == bobs
    assert await eventually(
        lambda: _is(figures(graph, instructor, course["id"]), (3, 0)), within=20
    )
    async with analytics() as session:
        history = {str(h.user_id): h for h in await course_history(session, course_id, now)}
    assert history[bob.id].at_risk is None

    # The drop redelivered is a no-op: Dan's enrolment, published after it, is seen while
    # Bob is still counted active.
    await redeliver(migrated, await drop_envelope(migrated, bobs))
    dan = await register(graph, name="Dan Later")
    await graph.data(ENROLL, {"c": course["id"]}, token=dan.access_token)
    assert await eventually(
        lambda: _is(figures(graph, instructor, course["id"]), (4, 0)), within=20
    )
    async with analytics() as session:
        exits = await session.scalar(
            text(
                "SELECT count(*) FROM analytics.statements "
                "WHERE actor_id = :u AND course_id = :c AND verb = 'exited'"
            ),
            {"u": uuid.UUID(bob.id), "c": course_id},
        )
    assert exits == 1
    inactive = (await views(graph, instructor, course["id"]))["inactiveLearners"]
    assert {item["user"]["id"] for item in inactive} == {ann.id, cat.id}

    # A learner's view of the course's analytics: refused.
    refused = await graph.execute(VIEWS, {"c": course["id"]}, token=ann.access_token)
    assert error_codes(refused) == ["FORBIDDEN"]


async def _is(found: Any, expected: Any) -> bool:
    return bool(await found == expected)
