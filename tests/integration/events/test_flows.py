"""Cross-domain flows over RabbitMQ, triggered by router mutations, checked by router queries
(and, for erasure, by looking into every schema)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from common.db import create_engine, service_dsn
from common.settings import Settings
from tests.accounts import Account, register
from tests.integration.assessments.conftest import (
    SUBMIT,
    TRUE_FALSE,
    assessment,
    course_with_learner,
    question,
    start,
)
from tests.integration.courses.conftest import APPROVE, published_course
from tests.integration.courses.conftest import SUBMIT as SUBMIT_COURSE
from tests.integration.notifications.test_notifications import inbox
from tests.support import GraphQLClient, eventually, metric

COMPLETE = """
mutation($c: ID!, $l: ID!) {
  markLessonComplete(input: {courseId: $c, lessonId: $l}) { enrollment { status progress } }
}
"""
PROGRESS = """
query { me { enrollments { edges { node { status progress course { id } } } } } }
"""


async def titles(graph: GraphQLClient, account: Account, category: str) -> list[str]:
    box = await inbox(graph, account, category=category)
    return [edge["node"]["title"] for edge in box["notifications"]["edges"]]


async def enrollment_of(graph: GraphQLClient, learner: Account, course_id: str) -> dict[str, Any]:
    data = await graph.data(PROGRESS, token=learner.access_token)
    found: dict[str, Any]
    [found] = [
        edge["node"]
        for edge in data["me"]["enrollments"]["edges"]
        if edge["node"]["course"]["id"] == course_id
    ]
    return found


async def test_registration_sends_a_welcome_notification(graph: GraphQLClient) -> None:
    learner = await register(graph, name="Wendy Welcome")
    welcome: Any = await eventually(lambda: titles(graph, learner, "ACCOUNT"))
    assert welcome == ["Welcome to LMS Platform"]


BUSINESS = {
    "registration": "users",
    "enrollment": "enrollments",
    "submission_graded": "assessments",
    "certificate_issued": "enrollments",
}


async def business_events(http: httpx.AsyncClient, urls: dict[str, str]) -> dict[str, float]:
    """Each business counter, read at the /metrics of the subgraph that counts it."""
    return {
        event: await metric(
            http,
            f"{urls[service]}/metrics",
            "lms_business_events_total",
            service=service,
            event=event,
        )
        for event, service in BUSINESS.items()
    }


async def test_learning_flows_progress_certificate_and_notifications(
    graph: GraphQLClient,
    instructor: Account,
    admin: Account,
    migrated: Settings,
    http: httpx.AsyncClient,
    subgraph_urls: dict[str, str],
) -> None:
    counted = await business_events(http, subgraph_urls)
    learner = await register(graph, name="Flo Flow")
    course = await course_with_learner(graph, instructor, admin, learner, "Flowing Course")
    # enrollment.created -> confirmation
    confirmed = await eventually(lambda: titles(graph, learner, "ENROLLMENT"))
    assert confirmed == ["You are enrolled in Flowing Course"]
    # assessment.published -> enrollments counts it: the lesson alone is half the course.
    qid = (await question(graph, instructor, course["id"], TRUE_FALSE))["id"]
    quiz = await assessment(graph, instructor, course["id"], [{"questionId": qid}], title="Gate")

    async def announced() -> bool:  # enrollments has consumed assessment.published
        engine = create_engine(service_dsn(migrated, "enrollments"), pool_size=1)
        try:
            async with engine.connect() as connection:
                query = (
                    "SELECT count(*) FROM enrollments.course_assessments WHERE assessment_id = :a"
                )
                return bool((await connection.execute(text(query), {"a": quiz["id"]})).scalar_one())
        finally:
            await engine.dispose()

    await eventually(announced)
    await graph.data(
        COMPLETE, {"c": course["id"], "l": course["lessons"][0]["id"]}, token=learner.access_token
    )

    async def half_done() -> bool:
        progress: float = (await enrollment_of(graph, learner, course["id"]))["progress"]
        return progress == 50.0

    await eventually(half_done)
    # A failed attempt: graded and notified, but progress stays.
    attempt = await start(graph, learner, quiz["id"])
    await graph.data(
        SUBMIT,
        {"id": attempt["id"], "answers": [{"questionId": qid, "booleanValue": False}]},
        token=learner.access_token,
    )
    graded = await eventually(lambda: titles(graph, learner, "GRADE"))
    assert graded == ["Gate has been graded"]
    # A passing attempt: submission.graded -> progress 100 -> completed -> certificate
    # issued -> certificate notification.
    attempt = await start(graph, learner, quiz["id"])
    await graph.data(
        SUBMIT,
        {"id": attempt["id"], "answers": [{"questionId": qid, "booleanValue": True}]},
        token=learner.access_token,
    )
    certificate = await eventually(lambda: titles(graph, learner, "CERTIFICATE"))
    assert certificate == ["Certificate for Flowing Course"]
    done = await enrollment_of(graph, learner, course["id"])
    assert done == {"status": "COMPLETED", "progress": 100.0, "course": {"id": course["id"]}}
    box = await inbox(graph, learner, category="CERTIFICATE")
    assert "certificate code is LMS-" in box["notifications"]["edges"][0]["node"]["body"]
    # The business counters moved where each thing happened (counted once committed).
    expected = {"registration": 1, "enrollment": 1, "submission_graded": 2, "certificate_issued": 1}

    async def moved() -> bool:
        now = await business_events(http, subgraph_urls)
        return all(now[event] >= counted[event] + n for event, n in expected.items())

    await eventually(moved)


async def test_republished_course_notifies_its_learners(
    graph: GraphQLClient, instructor: Account, admin: Account
) -> None:
    learner = await register(graph, name="Rita Return")
    course = await published_course(graph, instructor, admin, "Coming Back", lessons=1)
    await graph.data(
        "mutation($c: ID!) { enroll(input: {courseId: $c}) { enrollment { id } } }",
        {"c": course["id"]},
        token=learner.access_token,
    )
    # The first publication was committed (and relayed) before the enrollment: once the
    # enrollment is confirmed it has been handled too, whether or not it found the learner.
    await eventually(lambda: titles(graph, learner, "ENROLLMENT"))
    before = len(await titles(graph, learner, "COURSE_UPDATE"))
    await graph.data(
        "mutation($id: ID!) { archiveCourse(input: {id: $id}) { course { status } } }",
        {"id": course["id"]},
        token=instructor.access_token,
    )
    await graph.data(SUBMIT_COURSE, {"id": course["id"]}, token=instructor.access_token)
    await graph.data(APPROVE, {"id": course["id"]}, token=admin.access_token)

    async def announced() -> list[str] | None:
        news = await titles(graph, learner, "COURSE_UPDATE")
        return news if len(news) > before else None

    news: Any = await eventually(announced)
    assert news == ["Coming Back is published"] * (before + 1)


SCHEMAS = {
    "users": ["SELECT count(*) FROM users.users WHERE id = :u"],
    "courses": [
        "SELECT count(*) FROM courses.courses WHERE instructor_id = :u OR :u = ANY(co_instructor_ids)",
        "SELECT count(*) FROM courses.lesson_versions WHERE author_id = :u",
        "SELECT count(*) FROM courses.reviews WHERE actor_id = :u",
    ],
    "enrollments": [
        "SELECT count(*) FROM enrollments.enrollments WHERE user_id = :u OR enrolled_by = :u",
        "SELECT count(*) FROM enrollments.certificates WHERE user_id = :u",
        "SELECT count(*) FROM enrollments.assessment_results WHERE user_id = :u",
    ],
    "assessments": [
        "SELECT count(*) FROM assessments.attempts WHERE user_id = :u",
        "SELECT count(*) FROM assessments.questions WHERE created_by = :u",
    ],
    "notifications": [
        "SELECT count(*) FROM notifications.notifications WHERE user_id = :u OR sender_id = :u",
        "SELECT count(*) FROM notifications.preferences WHERE user_id = :u",
        "SELECT count(*) FROM notifications.contacts WHERE user_id = :u",
    ],
    "analytics": [
        "SELECT count(*) FROM analytics.statements WHERE actor_id = :u",
        "SELECT count(*) FROM analytics.statement_ids WHERE actor_id = :u",
        "SELECT count(*) FROM analytics.learner_days WHERE user_id = :u",
        "SELECT count(*) FROM analytics.learner_weeks WHERE user_id = :u",
        "SELECT count(*) FROM analytics.learner_courses WHERE user_id = :u",
        "SELECT count(*) FROM analytics.learner_lessons WHERE user_id = :u",
    ],
}


async def traces(settings: Settings, user_id: str) -> dict[str, int]:
    """How many rows of every schema still name the user."""
    found = {}
    for service, queries in SCHEMAS.items():
        engine = create_engine(service_dsn(settings, service), pool_size=1)
        try:
            async with engine.connect() as connection:
                found[service] = 0
                for query in queries:
                    result = await connection.execute(text(query), {"u": user_id})
                    found[service] += int(result.scalar_one())
        finally:
            await engine.dispose()
    return found


async def test_deleting_a_user_erases_them_from_every_schema(
    graph: GraphQLClient, admin: Account, migrated: Settings
) -> None:
    learner = await register(graph, name="Gone Gina")
    teacher = await register(graph, name="Gone Teacher")
    await graph.data(
        "mutation($id: ID!) { setUserRoles(input: {userId: $id, roles: [INSTRUCTOR, STUDENT]}) { user { id } } }",
        {"id": teacher.id},
        token=admin.access_token,
    )
    teacher = Account(teacher.id, teacher.email, *await _tokens(graph, teacher))
    course = await course_with_learner(graph, teacher, admin, learner, "Soon Orphaned")
    qid = (await question(graph, teacher, course["id"], TRUE_FALSE))["id"]
    quiz = await assessment(graph, teacher, course["id"], [{"questionId": qid}])
    attempt = await start(graph, learner, quiz["id"])
    await graph.data(
        SUBMIT,
        {"id": attempt["id"], "answers": [{"questionId": qid, "booleanValue": True}]},
        token=learner.access_token,
    )
    await eventually(lambda: titles(graph, learner, "GRADE"))

    async def traced() -> bool:  # the analytics consumer records the events in the background
        found = await traces(migrated, learner.id)
        return all(found[s] > 0 for s in SCHEMAS if s != "courses")

    await eventually(traced)
    for account in (learner, teacher):
        await graph.data(
            "mutation($id: ID!) { deleteUser(input: {userId: $id}) { deletedUserId } }",
            {"id": account.id},
            token=admin.access_token,
        )

    async def erased(user_id: str) -> bool:
        return set((await traces(migrated, user_id)).values()) == {0}

    try:
        await eventually(lambda: erased(learner.id))
        await eventually(lambda: erased(teacher.id))
    except AssertionError:
        raise AssertionError(
            (await traces(migrated, learner.id), await traces(migrated, teacher.id))
        ) from None
    # The course stays for its other learners, with no owner named.
    kept = await graph.data(
        "query($id: ID!) { course(id: $id) { title } }",
        {"id": course["id"]},
        token=admin.access_token,
    )
    assert kept["course"]["title"] == "Soon Orphaned"


async def _tokens(graph: GraphQLClient, account: Account) -> tuple[str, str]:
    from tests.accounts import PASSWORD, login

    body = await login(graph, account.email, PASSWORD)
    payload = body["data"]["login"]
    return payload["accessToken"], payload["refreshToken"]
