"""Notifications reach subscribers through the router the moment they are committed, over
both WebSocket subprotocols, with fields from other subgraphs resolved per event."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from common.infra.ports import free_port
from common.settings import Settings
from lms import services
from lms.compose import SUPERGRAPH_PATH
from subgraphs.notifications.live import user_channel
from tests.accounts import Account, register
from tests.integration.courses.conftest import published_course
from tests.integration.notifications.test_notifications import SEND
from tests.support import GraphQLClient, eventually, metric, serve
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


async def subscribed(settings: Settings, account: Account) -> int:
    """How many subscriptions the notifications subgraph holds on the account's channel."""
    channel = user_channel(uuid.UUID(account.id))
    redis = Redis.from_url(settings.redis_url)
    try:
        return int(dict(await redis.pubsub_numsub(channel)).get(channel.encode(), 0))
    finally:
        await redis.aclose()


async def live(settings: Settings, account: Account, subscribers: int = 1) -> None:
    """Wait until the account's live channel is subscribed at the notifications subgraph
    (neither protocol acknowledges a subscription)."""
    for _ in range(200):
        if await subscribed(settings, account) >= subscribers:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"{account.id} was never subscribed")


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


@contextlib.contextmanager
def router_process(supergraph: str, urls: dict[str, str], settings: Settings) -> Iterator[str]:
    """Another router, in its own process, as a second replica runs."""
    port = free_port()
    overrides = [f"--subgraph-url={name}={url}/graphql" for name, url in urls.items()]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "router",
            "serve",
            f"--supergraph={supergraph}",
            f"--port={port}",
            "--no-watch",
            f"--jwks-url={settings.jwks_url}",
            f"--jwt-issuer={settings.jwt_issuer}",
            f"--jwt-audience={settings.jwt_audience}",
            *overrides,
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            assert process.poll() is None, "the second router exited"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


async def test_a_notification_reaches_subscribers_on_every_router_and_subgraph_replica(
    graph: GraphQLClient,
    router_url: str,
    subgraph_urls: dict[str, str],
    admin: Account,
    migrated: Settings,
) -> None:
    """The mutation goes through this session's router to one notifications replica; the
    subscriber is on a second router process, subscribed at a second replica."""
    learner = await register(graph, name="Rhea Replica")
    async with serve(services.create_app("notifications", migrated), free_port()) as replica:
        urls = {**subgraph_urls, "notifications": replica}
        with router_process(str(SUPERGRAPH_PATH), urls, migrated) as other_router:
            async with (
                graphql_socket(other_router) as far,
                graphql_socket(router_url, LEGACY_WS) as near,
            ):
                assert (await far.init(learner.access_token))["type"] == "connection_ack"
                assert (await near.init(learner.access_token))["type"] == "connection_ack"
                far_op = await far.subscribe(ADDED, {"category": "REMINDER"})
                near_op = await near.subscribe(ADDED, {"category": "REMINDER"})
                await live(migrated, learner, subscribers=2)  # one per replica
                await remind(graph, admin, learner, title="everywhere")
                for socket, operation in ((far, far_op), (near, near_op)):
                    added = await next_of_category(socket, operation, "REMINDER")
                    assert (added["title"], added["user"]["name"]) == ("everywhere", "Rhea Replica")


async def test_the_router_counts_active_subscriptions_while_they_stream(
    graph: GraphQLClient, router_url: str, http: httpx.AsyncClient, migrated: Settings
) -> None:
    learner = await register(graph, name="Gauge Watcher")
    metrics = f"{router_url}/metrics"
    before = await metric(http, metrics, "router_active_subscriptions")
    async with graphql_socket(router_url) as socket:
        assert (await socket.init(learner.access_token))["type"] == "connection_ack"
        operation = await socket.subscribe(UNREAD)
        await live(migrated, learner)
        assert await metric(http, metrics, "router_active_subscriptions") == before + 1
        await socket.stop(operation)

        async def ended() -> bool:
            return await metric(http, metrics, "router_active_subscriptions") == before

        await eventually(ended)
