"""Lists of notifications and of submissions cost the same SQL statements at 10 and at 40."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.accounts import Account, register
from tests.email_links import verify_address
from tests.integration.assessments.conftest import (
    SUBMIT,
    TRUE_FALSE,
    assessment,
    course_with_learner,
    question,
    start,
)
from tests.integration.enrollments.test_no_n_plus_one import fewest_statements, statements
from tests.integration.notifications.test_notifications import inbox
from tests.sinks import SmtpSink
from tests.support import GraphQLClient, eventually

INBOX = """
query($first: Int) {
  notifications(first: $first) {
    edges { node { title read sender { name } course { title } deliveries { channel status digest } } }
  }
}
"""
SUBMISSIONS = """
query($first: Int) {
  me { submissions(first: $first) { edges { node {
    score status assessment { title course { title } }
    answers { question { prompt } points }
  } } } }
}
"""


async def delivered(graph: GraphQLClient, learner: Account, count: int) -> bool:
    data = await graph.data(INBOX, {"first": 100}, token=learner.access_token)
    return len(data["notifications"]["edges"]) >= count and all(
        delivery["status"] != "PENDING" or delivery["digest"] is not None  # digests wait
        for edge in data["notifications"]["edges"]
        for delivery in edge["node"]["deliveries"]
    )


async def graded(graph: GraphQLClient, learner: Account, count: int) -> bool:
    box = await inbox(graph, learner, category="GRADE")
    return bool(box["notifications"]["totalCount"] >= count)


async def quiet(http: httpx.AsyncClient, urls: dict[str, str]) -> None:
    """Wait until no subgraph runs SQL for background work (event handlers calling them)."""
    previous = await statements(http, urls["users"])
    for _ in range(60):
        await asyncio.sleep(0.5)
        current = await statements(http, urls["users"])
        if current == previous:
            return
        previous = current
    raise AssertionError("the subgraphs never went quiet")


async def cost(
    graph: GraphQLClient,
    http: httpx.AsyncClient,
    urls: dict[str, str],
    learner: Account,
    query: str,
    first: int,
) -> dict[str, float]:
    async def ask() -> None:
        data: dict[str, Any] = await graph.data(query, {"first": first}, token=learner.access_token)
        assert data

    return await fewest_statements(http, urls["users"], ask)


async def test_notification_and_submission_lists_do_not_grow_with_their_length(
    graph: GraphQLClient,
    http: httpx.AsyncClient,
    subgraph_urls: dict[str, str],
    instructor: Account,
    admin: Account,
    smtp_sink: SmtpSink,
) -> None:
    learner = await register(graph, name="Busy Learner")
    await verify_address(graph, smtp_sink, learner)  # else its e-mails wait, PENDING
    course = await course_with_learner(graph, instructor, admin, learner, "Busy Course")
    await graph.data(
        """mutation($input: SendNotificationInput!) { sendNotification(input: $input) { recipientCount } }""",
        {
            "input": {
                "category": "ANNOUNCEMENT",
                "courseId": course["id"],
                "data": {"title": "Hello", "message": "Welcome"},
            }
        },
        token=instructor.access_token,
    )
    for index in range(39):
        await graph.data(
            """mutation($input: SendNotificationInput!) { sendNotification(input: $input) { recipientCount } }""",
            {
                "input": {
                    "category": "REMINDER",
                    "userIds": [learner.id],
                    "data": {"title": f"Reminder {index}", "message": "Soon"},
                }
            },
            token=admin.access_token,
        )
    # Background work (the welcome and enrollment notifications, email deliveries) settles
    # first: it calls the users subgraph too.
    try:
        await eventually(lambda: delivered(graph, learner, 42), within=60)
    except AssertionError:
        data = await graph.data(INBOX, {"first": 100}, token=learner.access_token)
        edges = data["notifications"]["edges"]
        raise AssertionError(
            [
                len(edges),
                *[
                    (e["node"]["title"], [d["status"] for d in e["node"]["deliveries"]])
                    for e in edges
                    if any(d["status"] == "PENDING" for d in e["node"]["deliveries"])
                ][:5],
            ]
        ) from None
    await quiet(http, subgraph_urls)
    small = await cost(graph, http, subgraph_urls, learner, INBOX, 10)
    large = await cost(graph, http, subgraph_urls, learner, INBOX, 40)
    assert large["notifications"] == small["notifications"], (small, large)
    assert large["users"] == small["users"], (small, large)

    qid = (await question(graph, instructor, course["id"], TRUE_FALSE))["id"]
    quiz = await assessment(graph, instructor, course["id"], [{"questionId": qid}])
    for _ in range(40):
        attempt = await start(graph, learner, quiz["id"])
        await graph.data(
            SUBMIT,
            {"id": attempt["id"], "answers": [{"questionId": qid, "booleanValue": True}]},
            token=learner.access_token,
        )
    await eventually(lambda: graded(graph, learner, 40), within=30)
    await quiet(http, subgraph_urls)
    small = await cost(graph, http, subgraph_urls, learner, SUBMISSIONS, 10)
    large = await cost(graph, http, subgraph_urls, learner, SUBMISSIONS, 40)
    assert large["assessments"] == small["assessments"], (small, large)
    assert large["courses"] == small["courses"], (small, large)
