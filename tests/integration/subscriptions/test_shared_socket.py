"""Many users' subscriptions on one router→subgraph socket (`multiplex: true`): each user
still gets only their own events, one user's end never ends another's, the subgraph
authenticates every operation on its own (a forged one is refused), and a lost socket ends
each operation with an error its client sees, the next subscription opening a new socket.

A TCP proxy in front of the notifications subgraph counts the router's WebSocket upgrades
and plays the lost connection."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as websockets_serve
from websockets.exceptions import ConnectionClosed

from common.auth.keys import KEY_PARAMETERS
from common.settings import Settings
from router.transport.shared_sockets import SharedSockets
from router.transport.websocket import PROTOCOL, SubgraphSocket, SubgraphStreamError
from tests.accounts import Account, register
from tests.conftest import serve_router
from tests.integration.subscriptions.test_live_notifications import (
    ADDED,
    UNREAD,
    live,
    next_of_category,
    remind,
    subscribed,
)
from tests.integration.users.test_tokens import _platform_key, expired_access_token
from tests.support import GraphQLClient, eventually
from tests.tcp_proxy import TcpProxy, tcp_proxy
from tests.ws import GraphQLSocket, graphql_socket

SHARED = {
    "subscription": {"mode": {"passthrough": {"subgraphs": {"notifications": {"multiplex": True}}}}}
}
REMINDERS = "subscription { notificationAdded(category: REMINDER) { id title } }"


@pytest.fixture(scope="module")
async def proxy(subgraph_urls: dict[str, str]) -> AsyncIterator[TcpProxy]:
    port = int(subgraph_urls["notifications"].rsplit(":", 1)[1])
    async with tcp_proxy(port) as proxied:
        yield proxied


@pytest.fixture(scope="module")
async def shared_router(
    subgraph_urls: dict[str, str], migrated: Settings, proxy: TcpProxy
) -> AsyncIterator[str]:
    """A router multiplexing subscriptions to notifications, reached through the proxy."""
    urls = {**subgraph_urls, "notifications": f"http://127.0.0.1:{proxy.port}"}
    async with serve_router(urls, migrated, sections=SHARED) as url:
        yield url


async def _signed_in(socket: GraphQLSocket, account: Account) -> None:
    assert (await socket.init(account.access_token))["type"] == "connection_ack"


async def _gone(settings: Settings, account: Account) -> bool:
    return await subscribed(settings, account) == 0


async def test_users_share_one_socket_and_each_sees_only_their_own(
    graph: GraphQLClient,
    shared_router: str,
    proxy: TcpProxy,
    admin: Account,
    migrated: Settings,
) -> None:
    alice, bob = await register(graph, "Ada Shared"), await register(graph, "Ben Shared")
    upgrades = proxy.upgrades
    async with (
        graphql_socket(shared_router) as alices,
        graphql_socket(shared_router) as bobs,
    ):
        await _signed_in(alices, alice)
        await _signed_in(bobs, bob)
        alice_op = await alices.subscribe(ADDED, {"category": "REMINDER"})
        bob_op = await bobs.subscribe(ADDED, {"category": "REMINDER"})
        # the same operation id on both client connections: distinct operations upstream
        assert alice_op == bob_op
        await live(migrated, alice)
        await live(migrated, bob)
        assert proxy.upgrades - upgrades <= 1  # one socket for both (none if already open)

        await remind(graph, admin, alice, title="for Ada")
        await remind(graph, admin, bob, title="for Ben")
        added = await next_of_category(alices, alice_op, "REMINDER")
        assert (added["title"], added["user"]["id"]) == ("for Ada", alice.id)
        added = await next_of_category(bobs, bob_op, "REMINDER")
        assert (added["title"], added["user"]["id"]) == ("for Ben", bob.id)

        # Bob's `complete` ends his operation at the subgraph only
        await bobs.stop(bob_op)
        await eventually(lambda: _gone(migrated, bob))
        await remind(graph, admin, alice, bob, title="after Ben left")
        added = await next_of_category(alices, alice_op, "REMINDER")
        assert added["title"] == "after Ben left"
        with pytest.raises(TimeoutError):
            await bobs.receive(0.5)

        # a second operation of Alice's, then her disconnection ends both upstream
        second = await alices.subscribe(UNREAD)
        count = (await alices.next_payload(second))["data"]["unreadCountChanged"]
        await remind(graph, admin, alice, title="twice")
        events = {}
        for _ in range(2):  # in either order
            message = await alices.receive()
            events[message["id"]] = message["payload"]["data"]
        assert events == {
            alice_op: {"notificationAdded": events[alice_op]["notificationAdded"]},
            second: {"unreadCountChanged": count + 1},
        }
        assert events[alice_op]["notificationAdded"]["title"] == "twice"
    await eventually(lambda: _gone(migrated, alice))
    assert proxy.upgrades - upgrades <= 1


async def test_a_lost_socket_ends_each_operation_with_an_error_and_the_next_reconnects(
    graph: GraphQLClient,
    shared_router: str,
    proxy: TcpProxy,
    admin: Account,
    migrated: Settings,
) -> None:
    learner = await register(graph, "Lou Lost")
    async with graphql_socket(shared_router) as socket:
        await _signed_in(socket, learner)
        operation = await socket.subscribe(REMINDERS)
        await live(migrated, learner)
        await proxy.stop()  # the subgraph's connection drops
        try:
            ended = await socket.next_payload(operation)
            assert ended["data"] is None
            [failure] = ended["errors"]
            assert failure["extensions"]["code"] == "SUBREQUEST_WEBSOCKET_ERROR"
            assert failure["extensions"]["serviceName"] == "notifications"
            assert await socket.receive() == {"id": operation, "type": "complete"}
        finally:
            await proxy.start()
        # the subgraph lets go of the lost operation's channel first: while it still holds it,
        # `live` would not tell the new operation's subscription from the old one's
        assert await eventually(lambda: _no_subscription(migrated, learner))
        # the client's connection is still open: subscribing again opens a new socket
        upgrades = proxy.upgrades
        again = await socket.subscribe(REMINDERS)
        await live(migrated, learner)
        assert proxy.upgrades == upgrades + 1
        await remind(graph, admin, learner, title="after the drop")
        assert (await socket.next_payload(again))["data"]["notificationAdded"]["title"] == (
            "after the drop"
        )


async def _no_subscription(settings: Settings, account: Account) -> bool:
    return await subscribed(settings, account) == 0


def _forged(settings: Settings, account: Account) -> str:
    """A token for the account with our key id, signed by another key."""
    now = int(time.time())
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": account.id,
        "iat": now,
        "exp": now + 600,
        "roles": ["STUDENT"],
    }
    forger = RSAKey.generate_key(2048, parameters=KEY_PARAMETERS)
    return jwt.encode({"alg": "RS256", "kid": _platform_key(settings).kid}, claims, forger)


async def _subscribe_as(socket: GraphQLSocket, operation_id: str, headers: Any) -> None:
    await socket.send(
        {
            "id": operation_id,
            "type": "subscribe",
            "payload": {"query": REMINDERS, "extensions": {"headers": headers}},
        }
    )


async def test_the_subgraph_authenticates_each_operation_on_a_shared_socket(
    graph: GraphQLClient,
    subgraph_urls: dict[str, str],
    admin: Account,
    migrated: Settings,
) -> None:
    """Straight to the subgraph, as a router's shared socket (no token in connection_init):
    a forged, an expired, a revoked or a missing token ends that operation alone."""
    alice, bob = await register(graph, "Ava Direct"), await register(graph, "Bo Direct")
    revoked = await register(graph, "Rex Revoked")
    await graph.data(
        "mutation($t: String!) { logout(input: {refreshToken: $t, allSessions: true}) "
        "{ revokedSessions } }",
        {"t": revoked.refresh_token},
    )
    async with graphql_socket(subgraph_urls["notifications"]) as socket:
        assert (await socket.init())["type"] == "connection_ack"
        await _subscribe_as(socket, "alice", {"Authorization": f"Bearer {alice.access_token}"})
        refusals = {
            "forged-bob": {"authorization": f"Bearer {_forged(migrated, bob)}"},
            "expired-bob": {"authorization": f"Bearer {expired_access_token(migrated, bob)}"},
            "revoked": {"authorization": f"Bearer {revoked.access_token}"},
            "not-bearer": {"authorization": f"Basic {uuid.uuid4().hex}"},
        }
        for operation_id, headers in refusals.items():
            await _subscribe_as(socket, operation_id, headers)
        for _ in refusals:
            message = await socket.receive()
            assert message["type"] == "error", message
            assert message["id"] in refusals
            [refusal] = message["payload"]
            assert refusal["extensions"]["code"] == "UNAUTHENTICATED"
        # no token: nobody, whatever else the headers say (and headers that are no mapping)
        nobody: list[tuple[str, Any]] = [("anonymous", {"x-user-id": bob.id}), ("junk", 5)]
        for operation_id, claimed in nobody:
            await _subscribe_as(socket, operation_id, claimed)
            payload = await socket.next_payload(operation_id)
            assert [e["extensions"]["code"] for e in payload["errors"]] == ["UNAUTHENTICATED"]
            assert await socket.receive() == {"id": operation_id, "type": "complete"}
        await live(migrated, alice)
        assert await subscribed(migrated, bob) == 0
        await remind(graph, admin, alice, bob, title="shared socket")
        payload = await socket.next_payload("alice")
        assert payload["data"]["notificationAdded"]["title"] == "shared socket"
        await _quiet(socket)

        # at most 100 operations at once per caller, however many the socket carries
        alices = {"authorization": f"Bearer {alice.access_token}"}
        for n in range(2, 102):
            await _subscribe_as(socket, f"alice-{n}", alices)
        refused = await socket.receive()
        assert refused["id"] == "alice-101"
        assert refused["payload"][0]["message"] == "Subscription limit reached"
        await _subscribe_as(socket, "bob", {"authorization": f"Bearer {bob.access_token}"})
        await live(migrated, bob)
        await remind(graph, admin, bob, title="bob too")
        payload = await socket.next_payload("bob")
        assert payload["data"]["notificationAdded"]["title"] == "bob too"


async def _quiet(socket: GraphQLSocket) -> None:
    """Nothing more arrives for a while."""
    try:
        message = await socket.receive(0.5)
    except TimeoutError:
        return
    raise AssertionError(f"unexpected {message}")


async def test_subscribers_waiting_for_a_silent_subgraph_share_one_attempt() -> None:
    """A subgraph that accepts the connection and never answers: the subscribers waiting on
    the shared socket fail together, after one attempt, not one attempt (and wait) each."""
    attempts: list[asyncio.StreamWriter] = []

    async def silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        attempts.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    socket = SubgraphSocket("quiet", f"http://127.0.0.1:{port}/graphql", {}, {}, open_timeout=0.5)

    async def subscriber() -> SubgraphStreamError:
        with pytest.raises(SubgraphStreamError) as failure:
            async for _ in socket.subscribe({"query": "subscription { ticks }"}):
                pass
        return failure.value

    try:
        failures = await asyncio.gather(*(subscriber() for _ in range(5)))
    finally:
        await socket.aclose()
        for writer in attempts:
            writer.close()
        server.close()
        await server.wait_closed()
    assert len(attempts) == 1
    assert {f.errors[0]["extensions"]["code"] for f in failures} == {"SUBREQUEST_WEBSOCKET_ERROR"}


async def test_a_moved_subgraph_gets_a_new_shared_socket_and_the_idle_old_one_closes() -> None:
    """After a reload points the subgraph elsewhere, the next subscription opens a socket
    to the new address, and the old one, idle, is closed rather than kept forever."""
    closed: dict[int, asyncio.Event] = {}

    async def subgraph(connection: ServerConnection) -> None:
        port = connection.local_address[1]
        with contextlib.suppress(ConnectionClosed):
            async for raw in connection:
                message = json.loads(raw)
                if message["type"] == "connection_init":
                    await connection.send('{"type": "connection_ack"}')
                elif message["type"] == "subscribe":
                    tick = {"data": {"tick": port}}
                    await connection.send(
                        json.dumps({"id": message["id"], "type": "next", "payload": tick})
                    )
        closed[port].set()

    shared = SharedSockets()
    async with (
        websockets_serve(subgraph, "127.0.0.1", 0, subprotocols=[PROTOCOL]) as old,
        websockets_serve(subgraph, "127.0.0.1", 0, subprotocols=[PROTOCOL]) as new,
    ):
        ports = [server.sockets[0].getsockname()[1] for server in (old, new)]
        closed.update({port: asyncio.Event() for port in ports})
        try:
            for port in ports:
                events = shared.subscribe(
                    "ticks",
                    f"http://127.0.0.1:{port}/graphql",
                    {"query": "subscription { tick }"},
                    {},
                )
                assert await anext(events) == {"data": {"tick": port}}
                await events.aclose()  # the operation ends: its socket is idle
            async with asyncio.timeout(5):
                await closed[ports[0]].wait()
            assert not closed[ports[1]].is_set()
            assert len(shared) == 1
        finally:
            await shared.aclose()


async def test_a_burst_to_many_subscribers_arrives_once_each_in_order(
    graph: GraphQLClient, shared_router: str, admin: Account, migrated: Settings
) -> None:
    """Sends to many users at once travel to the subgraph's hub as batches (one Redis
    message for all recipients): through the router, each subscriber gets their own
    notifications, every one once and in the order sent, and nobody else's."""
    people = [await register(graph, f"Burst {index}") for index in range(8)]
    async with contextlib.AsyncExitStack() as stack:
        sockets = [await stack.enter_async_context(graphql_socket(shared_router)) for _ in people]
        operations = []
        for socket, person in zip(sockets, people, strict=True):
            await _signed_in(socket, person)
            operations.append(await socket.subscribe(ADDED, {"category": "REMINDER"}))
        for person in people:
            await live(migrated, person)
        titles = [f"burst {round_}" for round_ in range(3)]
        for title in titles:
            await remind(graph, admin, *people, title=title)
        for socket, operation, person in zip(sockets, operations, people, strict=True):
            received = [await next_of_category(socket, operation, "REMINDER") for _ in titles]
            assert [added["title"] for added in received] == titles
            assert {added["user"]["id"] for added in received} == {person.id}
            assert len({added["id"] for added in received}) == len(titles)
        for socket in sockets:  # nothing more: no duplicates, nobody else's
            with pytest.raises(TimeoutError):
                await socket.receive(0.5)
