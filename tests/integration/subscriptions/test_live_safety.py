"""What a subscriber sees, and never sees, through the router: only their own events, the
category they asked for, their unread count; the end of the stream when their token
expires; a cut-off when they read too slowly; a warning when Redis restarted."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from common.auth import Role, TokenIssuer
from common.infra.redis import RedisServer
from common.settings import Settings
from router.subscriptions.limits import SubscriptionLimits
from tests.accounts import Account, register
from tests.conftest import serve_router
from tests.integration.notifications.test_notifications import SEND
from tests.integration.subscriptions.test_live_notifications import (
    ADDED,
    UNREAD,
    live,
    next_of_category,
    remind,
    subscribed,
)
from tests.integration.users.test_tokens import _platform_key
from tests.support import GraphQLClient, eventually
from tests.ws import LEGACY_WS, TRANSPORT_WS, graphql_socket

BOTH = pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
# the router's socket to the subgraph: shared by every client (as shipped), or one per client
MODES = pytest.mark.parametrize("mode", ["shared", "per-client"])
INBOX = "{ notifications(first: 50) { edges { node { id title read } } } }"


@pytest.fixture(scope="module")
async def per_client_router(
    subgraph_urls: dict[str, str], migrated: Settings
) -> AsyncIterator[str]:
    """A router with one socket to the subgraph per client connection (no multiplexing)."""
    async with serve_router(subgraph_urls, migrated, sections={"subscription": {}}) as url:
        yield url


@pytest.fixture
def routers(router_url: str, per_client_router: str) -> dict[str, str]:
    return {"shared": router_url, "per-client": per_client_router}


@pytest.fixture(scope="module")
async def tight_router(subgraph_urls: dict[str, str], migrated: Settings) -> AsyncIterator[str]:
    """A router that holds at most 8 messages for a client."""
    limits = SubscriptionLimits(queue_size=8)
    async with serve_router(subgraph_urls, migrated, limits) as url:
        yield url


async def _quiet(receive: Any, seconds: float = 0.5) -> None:
    """Nothing arrives for a while."""
    try:
        message = await receive(seconds)
    except TimeoutError:
        return
    raise AssertionError(f"unexpected {message}")


@BOTH
async def test_a_user_receives_only_their_own_notifications(
    protocol: str, graph: GraphQLClient, router_url: str, admin: Account, migrated: Settings
) -> None:
    alice, bob = await register(graph, "Alice"), await register(graph, "Bob")
    async with (
        graphql_socket(router_url, protocol) as alices,
        graphql_socket(router_url, protocol) as bobs,
    ):
        await alices.init(alice.access_token)
        await bobs.init(bob.access_token)
        alice_op = await alices.subscribe(ADDED, {"category": "REMINDER"})
        bob_op = await bobs.subscribe(ADDED, {"category": "REMINDER"})
        await live(migrated, alice)
        await live(migrated, bob)
        await remind(graph, admin, alice, title="for Alice only")
        added = await next_of_category(alices, alice_op, "REMINDER")
        assert (added["title"], added["user"]["id"]) == ("for Alice only", alice.id)
        await _quiet(bobs.receive)
        await remind(graph, admin, bob, title="for Bob")
        assert (await next_of_category(bobs, bob_op, "REMINDER"))["title"] == "for Bob"
        await _quiet(alices.receive)
        await alices.stop(alice_op)


async def test_the_category_filter_passes_only_that_category(
    graph: GraphQLClient,
    router_url: str,
    admin: Account,
    migrated: Settings,
) -> None:
    learner = await register(graph, "Cat Filter")
    async with graphql_socket(router_url) as socket:
        await socket.init(learner.access_token)
        operation = await socket.subscribe(ADDED, {"category": "ANNOUNCEMENT"})
        await live(migrated, learner)
        await remind(graph, admin, learner, title="a reminder")
        await graph.data(
            SEND,
            {
                "input": {
                    "category": "ANNOUNCEMENT",
                    "userIds": [learner.id],
                    "data": {"title": "an announcement", "message": "hello"},
                }
            },
            token=admin.access_token,
        )
        payload = await socket.next_payload(operation)
        assert payload["data"]["notificationAdded"]["title"] == "an announcement"
        assert payload["data"]["notificationAdded"]["category"] == "ANNOUNCEMENT"


@BOTH
async def test_the_unread_count_follows_new_and_read_notifications(
    protocol: str, graph: GraphQLClient, router_url: str, admin: Account, migrated: Settings
) -> None:
    learner = await register(graph, "Una Read")

    async def welcomed() -> dict[str, Any] | None:  # the welcome notification lands first
        box: dict[str, Any] = await graph.data(INBOX, token=learner.access_token)
        return box if box["notifications"]["edges"] else None

    inbox = await eventually(welcomed)
    unread = sum(not edge["node"]["read"] for edge in inbox["notifications"]["edges"])
    async with graphql_socket(router_url, protocol) as socket:
        await socket.init(learner.access_token)
        operation = await socket.subscribe(UNREAD)
        first = await socket.next_payload(operation)
        assert first == {"data": {"unreadCountChanged": unread}}
        await live(migrated, learner)
        await remind(graph, admin, learner, title="count me")
        assert (await socket.next_payload(operation))["data"]["unreadCountChanged"] == unread + 1
        inbox = await graph.data(INBOX, token=learner.access_token)
        newest = next(
            edge["node"]["id"]
            for edge in inbox["notifications"]["edges"]
            if edge["node"]["title"] == "count me"
        )
        await graph.data(
            "mutation($id: ID!) { markNotificationRead(input: {id: $id}) { notification { id } } }",
            {"id": newest},
            token=learner.access_token,
        )
        assert (await socket.next_payload(operation))["data"]["unreadCountChanged"] == unread


@BOTH
@MODES
async def test_an_expiring_token_ends_the_subscription_and_the_connection(
    protocol: str, mode: str, graph: GraphQLClient, routers: dict[str, str], migrated: Settings
) -> None:
    learner = await register(graph, "Short Lived")
    token = TokenIssuer(
        _platform_key(migrated),
        issuer=migrated.jwt_issuer,
        audience=migrated.jwt_audience,
        ttl_seconds=2,
    ).issue(uuid.UUID(learner.id), frozenset({Role.STUDENT}))
    async with graphql_socket(routers[mode], protocol) as socket:
        assert (await socket.init(token))["type"] == "connection_ack"
        operation = await socket.subscribe(ADDED, {"category": "REMINDER"})  # no welcome
        await live(migrated, learner)
        ended = await socket.next_payload(operation)
        assert ended["data"] is None
        assert [error["extensions"]["code"] for error in ended["errors"]] == ["UNAUTHENTICATED"]
        assert await socket.receive() == {"id": operation, "type": "complete"}
        code, reason = await socket.closed()
    assert code == 4403
    assert "expired" in reason
    await eventually(lambda: _unsubscribed(migrated, learner))  # ended at the subgraph too


async def _unsubscribed(settings: Settings, learner: Account) -> bool:
    return await subscribed(settings, learner) == 0


@BOTH
@MODES
async def test_signing_out_everywhere_ends_the_subscription_and_the_connection(
    protocol: str,
    mode: str,
    graph: GraphQLClient,
    routers: dict[str, str],
    admin: Account,
    migrated: Settings,
) -> None:
    learner = await register(graph, "Signs Out")
    async with (
        graphql_socket(routers[mode], protocol) as socket,
        graphql_socket(routers[mode], protocol) as bystander,
    ):
        assert (await socket.init(learner.access_token))["type"] == "connection_ack"
        operation = await socket.subscribe(ADDED, {"category": "REMINDER"})  # no welcome
        other = await register(graph, "Stays")
        assert (await bystander.init(other.access_token))["type"] == "connection_ack"
        stays = await bystander.subscribe(ADDED, {"category": "REMINDER"})
        await live(migrated, learner)
        await live(migrated, other)
        await graph.data(
            "mutation($t: String!) { logout(input: {refreshToken: $t, allSessions: true}) "
            "{ revokedSessions } }",
            {"t": learner.refresh_token},
        )
        ended = await socket.next_payload(operation)
        assert ended["data"] is None
        [refusal] = ended["errors"]
        assert refusal["extensions"]["code"] == "UNAUTHENTICATED"
        assert "session has ended" in refusal["message"]
        assert await socket.receive() == {"id": operation, "type": "complete"}
        code, reason = await socket.closed()
        assert code == 4403
        assert "session has ended" in reason
        # another user's connection and subscription are untouched
        await _quiet(bystander.receive, 0.3)
        await eventually(lambda: _unsubscribed(migrated, learner))
        await remind(graph, admin, other, title="still here")
        assert (await next_of_category(bystander, stays, "REMINDER"))["title"] == "still here"


async def test_a_slow_client_is_cut_off_without_holding_up_anyone_else(
    graph: GraphQLClient, tight_router: str, admin: Account, migrated: Settings
) -> None:
    slow, fast = await register(graph, "Slow Reader"), await register(graph, "Fast Reader")
    bulky = (
        "subscription { notificationAdded { title "
        + " ".join(f"b{n}: body" for n in range(20))
        + " } }"
    )  # ~300 KB per event
    async with (
        graphql_socket(tight_router, receive_buffer=65536) as slow_socket,
        graphql_socket(tight_router) as fast_socket,
    ):
        await slow_socket.init(slow.access_token)
        await fast_socket.init(fast.access_token)
        await slow_socket.subscribe(bulky)  # and never reads
        fast_op = await fast_socket.subscribe(ADDED, {"category": "REMINDER"})
        await live(migrated, slow)
        await live(migrated, fast)
        for n in range(100):  # the socket buffers hold a few MB; the router 8 messages more
            await graph.data(
                SEND,
                {
                    "input": {
                        "category": "REMINDER",
                        "userIds": [slow.id, fast.id],
                        "data": {"title": f"bulk {n}", "message": "x" * 15_000},
                    }
                },
                token=admin.access_token,
            )
            added = await next_of_category(fast_socket, fast_op, "REMINDER")
            assert added["title"] == f"bulk {n}"  # at once and in order, while the slow one lags
            if not await subscribed(migrated, slow):  # the router cut the slow one off
                break
        else:
            raise AssertionError("the slow client was never cut off")
        code, reason = await slow_socket.closed()
        assert code == 1013
        assert "Too slow" in reason
        await remind(graph, admin, fast, title="still served")
        assert (await next_of_category(fast_socket, fast_op, "REMINDER"))["title"] == "still served"


async def test_a_redis_restart_is_reported_and_the_stream_goes_on(
    graph: GraphQLClient,
    router_url: str,
    admin: Account,
    migrated: Settings,
    redis_server: RedisServer,
) -> None:
    learner = await register(graph, "Rita Restart")
    async with graphql_socket(router_url, LEGACY_WS) as socket:
        await socket.init(learner.access_token)
        operation = await socket.subscribe(ADDED, {"category": "REMINDER"})
        await live(migrated, learner)
        await asyncio.to_thread(redis_server.stop)
        await asyncio.to_thread(redis_server.start)
        missed = await socket.next_payload(operation, seconds=20)
        assert [error["extensions"]["code"] for error in missed["errors"]] == ["EVENTS_MISSED"]
        assert "catch up" in missed["errors"][0]["message"]
        await live(migrated, learner)
        await remind(graph, admin, learner, title="after the restart")
        added = await next_of_category(socket, operation, "REMINDER")
        assert added["title"] == "after the restart"
