"""Notifications reach subscribers through the router the moment they are committed, over
both WebSocket subprotocols, with fields from other subgraphs resolved per event."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from redis.asyncio import Redis

from common.settings import Settings
from subgraphs.notifications.live import user_channel
from tests.accounts import Account, register
from tests.integration.courses.conftest import published_course
from tests.integration.notifications.test_notifications import SEND
from tests.support import GraphQLClient
from tests.ws import LEGACY_WS, TRANSPORT_WS, GraphQLSocket, graphql_socket

ADDED = """
subscription($category: NotificationCategory) {
  notificationAdded(category: $category) {
    id category title body read
    user { id name }
    course { id title }
  }
}
"""
UNREAD = "subscription { unreadCountChanged }"


async def live(settings: Settings, account: Account, subscribers: int = 1) -> None:
    """Wait until the account's live channel is subscribed at the notifications subgraph
    (neither protocol acknowledges a subscription)."""
    channel = user_channel(uuid.UUID(account.id))
    redis = Redis.from_url(settings.redis_url)
    try:
        for _ in range(200):
            if dict(await redis.pubsub_numsub(channel)).get(channel.encode(), 0) >= subscribers:
                return
            await asyncio.sleep(0.025)
    finally:
        await redis.aclose()
    raise AssertionError(f"{channel} was never subscribed")


async def remind(graph: GraphQLClient, admin: Account, *users: Account, title: str) -> None:
    await graph.data(
        SEND,
        {
            "input": {
                "category": "REMINDER",
                "userIds": [user.id for user in users],
                "data": {"title": title, "message": f"about {title}"},
            }
        },
        token=admin.access_token,
    )


async def next_of_category(
    socket: GraphQLSocket, operation_id: str, category: str
) -> dict[str, Any]:
    """The next notification of a category (a welcome may arrive first for a new user)."""
    while True:
        payload = await socket.next_payload(operation_id)
        assert "errors" not in payload, payload
        added: dict[str, Any] = payload["data"]["notificationAdded"]
        if added["category"] == category:
            return added


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_course_announcement_arrives_with_fields_from_other_subgraphs(
    protocol: str,
    graph: GraphQLClient,
    router_url: str,
    instructor: Account,
    admin: Account,
    migrated: Settings,
) -> None:
    course = await published_course(graph, instructor, admin, f"Live {protocol}", lessons=1)
    learner = await register(graph, name="Lena Live")
    await graph.data(
        "mutation($c: ID!) { enroll(input: {courseId: $c}) { enrollment { id } } }",
        {"c": course["id"]},
        token=learner.access_token,
    )
    async with graphql_socket(router_url, protocol) as socket:
        assert (await socket.init(learner.access_token))["type"] == "connection_ack"
        operation = await socket.subscribe(ADDED, {"category": "ANNOUNCEMENT"})
        await live(migrated, learner)
        await graph.data(
            SEND,
            {
                "input": {
                    "category": "ANNOUNCEMENT",
                    "courseId": course["id"],
                    "data": {"title": "Exam moved", "message": "To Friday"},
                }
            },
            token=instructor.access_token,
        )
        added = await next_of_category(socket, operation, "ANNOUNCEMENT")
        assert added["user"] == {"id": learner.id, "name": "Lena Live"}  # from users
        assert added["course"] == {"id": course["id"], "title": f"Live {protocol}"}  # courses
        assert added["read"] is False
        await socket.stop(operation)
