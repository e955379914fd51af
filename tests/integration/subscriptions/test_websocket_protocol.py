"""The WebSocket protocols at the router: the handshake, authentication on connection_init,
keep-alive, and the close codes and errors each protocol defines for misbehaving clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from common.settings import Settings
from router.subscriptions.limits import SubscriptionLimits
from tests.accounts import Account, register
from tests.conftest import SHIPPED_SUBSCRIPTIONS, serve_router
from tests.hostile_documents import Bomb
from tests.integration.users.test_tokens import expired_access_token
from tests.support import GraphQLClient, error_codes, eventually
from tests.ws import LEGACY_WS, TRANSPORT_WS, GraphQLSocket, graphql_socket

ADDED = "subscription { notificationAdded(category: REMINDER) { id title } }"  # no welcome
UNREAD_COUNT = "subscription { unreadCountChanged }"
BOTH = pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])


@pytest.fixture(scope="module")
async def strict_router(subgraph_urls: dict[str, str], migrated: Settings) -> AsyncIterator[str]:
    """A router with tight WebSocket limits, for the limits' own tests."""
    limits = SubscriptionLimits(init_timeout=0.5, keepalive=0.2, queue_size=8, max_operations=2)
    async with serve_router(subgraph_urls, migrated, limits) as url:
        yield url


@pytest.fixture
async def learner(graph: GraphQLClient) -> Account:
    return await register(graph, name="Wes Socket")


def _tampered(token: str) -> str:
    header, claims, signature = token.split(".")
    flipped = "A" if signature[10] != "A" else "B"
    return f"{header}.{claims}.{signature[:10]}{flipped}{signature[11:]}"


# Authentication on connection_init


@pytest.mark.parametrize(
    "credentials", ["none", "tampered", "expired", "not-a-jwt"], ids=lambda value: value
)
async def test_a_connection_without_valid_credentials_is_refused(
    credentials: str, router_url: str, learner: Account, migrated: Settings
) -> None:
    expired = expired_access_token(migrated, learner)
    token = {
        "none": None,
        "tampered": _tampered(learner.access_token),
        "expired": expired,
        "not-a-jwt": "hello",
    }[credentials]
    async with graphql_socket(router_url, TRANSPORT_WS) as socket:
        await socket.send(
            {
                "type": "connection_init",
                "payload": {} if token is None else {"Authorization": f"Bearer {token}"},
            }
        )
        code, reason = await socket.closed()
    assert code == 4403
    assert reason.startswith("Forbidden")


async def test_the_legacy_protocol_refuses_with_connection_error(
    router_url: str, learner: Account
) -> None:
    async with graphql_socket(router_url, LEGACY_WS) as socket:
        refused = await socket.init(_tampered(learner.access_token))
        assert refused["type"] == "connection_error"
        assert refused["payload"]["extensions"]["code"] == "UNAUTHENTICATED"
        code, _ = await socket.closed()
    assert code == 1011


@BOTH
async def test_the_token_may_come_with_either_header_spelling_or_the_upgrade_request(
    protocol: str, router_url: str, learner: Account
) -> None:
    async with graphql_socket(router_url, protocol) as socket:
        ack = await socket.init(authorization=f"Bearer {learner.access_token}")
        assert ack["type"] == "connection_ack"
    headers = {"Authorization": f"Bearer {learner.access_token}"}
    async with graphql_socket(router_url, protocol, headers=headers) as socket:
        assert (await socket.init())["type"] == "connection_ack"


@BOTH
async def test_an_integration_connects_with_an_api_key(
    protocol: str, router_url: str, graph: GraphQLClient, admin: Account
) -> None:
    created = await graph.data(
        'mutation { createApiKey(input: {name: "live feed", scopes: ["profile:read"]}) '
        "{ key apiKey { id } } }",
        token=admin.access_token,
    )
    key = created["createApiKey"]["key"]
    for payload in ({"X-API-Key": key}, {"headers": {"x-api-key": key}}):
        async with graphql_socket(router_url, protocol) as socket:
            assert (await socket.init(**payload))["type"] == "connection_ack"
            operation = await socket.subscribe("{ me { id } }")
            payload_of_me = await socket.next_payload(operation)
            assert payload_of_me == {"data": {"me": {"id": admin.id}}}  # it acts for its owner
    async with graphql_socket(router_url, protocol, headers={"X-API-Key": key}) as socket:
        assert (await socket.init())["type"] == "connection_ack"
    await graph.data(
        "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } } }",
        {"id": created["createApiKey"]["apiKey"]["id"]},
        token=admin.access_token,
    )

    async def forgotten() -> bool:  # the session's router remembers a traded key a second
        response = await graph.http.post(
            graph.url, json={"query": "{ me { id } }"}, headers={"x-api-key": key}
        )
        return response.status_code == 401

    await eventually(forgotten, within=5)
    for bad in (key, "lms_not-a-key", "x" * 5000):
        async with graphql_socket(router_url, protocol) as socket:
            refused = await socket.init(**{"X-API-Key": bad}) if protocol == LEGACY_WS else None
            if refused is not None:
                assert refused["type"] == "connection_error"
                assert refused["payload"]["extensions"]["code"] == "UNAUTHENTICATED"
            else:
                await socket.send({"type": "connection_init", "payload": {"X-API-Key": bad}})
            code, reason = await socket.closed()
        assert code == (1011 if protocol == LEGACY_WS else 4403), reason
        assert "The API key is not valid." in reason


# Protocol errors (graphql-transport-ws closes; the legacy protocol reports and goes on)


async def test_subscribing_before_the_acknowledgement_closes_with_4401(router_url: str) -> None:
    async with graphql_socket(router_url, TRANSPORT_WS) as socket:
        await socket.subscribe(ADDED)
        assert (await socket.closed())[0] == 4401


async def test_a_second_connection_init_closes_with_4429(router_url: str, learner: Account) -> None:
    async with graphql_socket(router_url, TRANSPORT_WS) as socket:
        assert (await socket.init(learner.access_token))["type"] == "connection_ack"
        await socket.send({"type": "connection_init", "payload": {}})
        assert (await socket.closed())[0] == 4429


async def test_a_duplicate_operation_id_closes_with_4409(router_url: str, learner: Account) -> None:
    async with graphql_socket(router_url, TRANSPORT_WS) as socket:
        await socket.init(learner.access_token)
        await socket.subscribe(ADDED, operation_id="same")
        await socket.subscribe(ADDED, operation_id="same")
        code, reason = await socket.closed()
    assert (code, reason) == (4409, "Subscriber for same already exists")


@pytest.mark.parametrize(
    "message",
    ["not json", '["a list"]', '{"no": "type"}', '{"type": "bogus"}', '{"type": "subscribe"}'],
)
async def test_an_invalid_message_closes_with_4400(
    message: str, router_url: str, learner: Account
) -> None:
    async with graphql_socket(router_url, TRANSPORT_WS) as socket:
        await socket.init(learner.access_token)
        await socket.send(message)
        assert (await socket.closed())[0] == 4400


async def test_the_legacy_protocol_reports_an_invalid_message_and_carries_on(
    router_url: str, learner: Account
) -> None:
    async with graphql_socket(router_url, LEGACY_WS) as socket:
        await socket.init(learner.access_token)
        await socket.send("not json")
        assert (await socket.receive())["type"] == "error"
        operation = await socket.subscribe("{ me { id } }")
        assert (await socket.next_payload(operation)) == {"data": {"me": {"id": learner.id}}}


async def test_an_oversized_message_is_refused(router_url: str, learner: Account) -> None:
    async with graphql_socket(router_url, TRANSPORT_WS) as socket:
        await socket.init(learner.access_token)
        await socket.subscribe("{ me { id } }" + " " * 300_000)
        code, reason = await socket.closed()
    assert (code, reason) == (4400, "The message is too large")


async def test_an_unknown_subprotocol_closes_with_4406(router_url: str) -> None:
    url = router_url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-over-carrier-pigeon")]) as raw:
        await raw.wait_closed()
        assert raw.close_code == 4406


async def test_ping_is_answered_with_pong(router_url: str, learner: Account) -> None:
    async with graphql_socket(router_url, TRANSPORT_WS) as socket:
        await socket.init(learner.access_token)
        await socket.send({"type": "ping", "payload": {"sent": 1}})
        for _ in range(20):
            if {"type": "pong"} in socket.skipped:
                return
            socket.skipped.clear()
            operation = await socket.subscribe("{ me { id } }")  # something to wait for
            await socket.next_payload(operation)
        raise AssertionError("no pong")


# permessage-deflate (`subscription.permessage_deflate`)


@pytest.fixture(scope="module")
async def deflating_router(subgraph_urls: dict[str, str], migrated: Settings) -> AsyncIterator[str]:
    deflate = {**SHIPPED_SUBSCRIPTIONS, "permessage_deflate": True}
    async with serve_router(subgraph_urls, migrated, sections={"subscription": deflate}) as url:
        yield url


async def _extensions_negotiated(router: str, learner: Account) -> str | None:
    """The Sec-WebSocket-Extensions the router answers a client offering permessage-deflate
    as browsers do (websockets' default); the socket serves an operation either way."""
    url = router.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[Subprotocol(TRANSPORT_WS)]) as raw:
        assert raw.response is not None
        extensions = raw.response.headers.get("Sec-WebSocket-Extensions")
        socket = GraphQLSocket(raw, TRANSPORT_WS)
        assert (await socket.init(learner.access_token))["type"] == "connection_ack"
        operation = await socket.subscribe("{ me { name } }")
        assert (await socket.next_payload(operation))["data"] == {"me": {"name": "Wes Socket"}}
    return extensions


async def test_the_router_declines_deflate_by_default(router_url: str, learner: Account) -> None:
    assert await _extensions_negotiated(router_url, learner) is None


async def test_the_router_accepts_deflate_when_the_configuration_says_so(
    deflating_router: str, learner: Account
) -> None:
    assert await _extensions_negotiated(deflating_router, learner) == (
        "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10"
    )


# Operations


@BOTH
async def test_queries_and_mutations_run_over_the_socket_too(
    protocol: str, router_url: str, learner: Account
) -> None:
    async with graphql_socket(router_url, protocol) as socket:
        await socket.init(learner.access_token)
        operation = await socket.subscribe("{ me { id name } }")
        payload = await socket.next_payload(operation)
        assert payload == {"data": {"me": {"id": learner.id, "name": "Wes Socket"}}}
        assert await socket.receive() == {"id": operation, "type": "complete"}


@BOTH
async def test_an_invalid_operation_gets_an_error_message_and_the_connection_lives_on(
    protocol: str, router_url: str, learner: Account
) -> None:
    async with graphql_socket(router_url, protocol) as socket:
        await socket.init(learner.access_token)
        operation = await socket.subscribe("subscription { notificationAdded { nope } }")
        message = await socket.receive()
        assert message["type"] == "error"
        assert message["id"] == operation
        assert message["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        wrong_type = await socket.subscribe(
            "subscription($c: NotificationCategory) { notificationAdded(category: $c) { id } }",
            {"c": 42},
        )
        message = await socket.receive()
        assert (message["id"], message["type"]) == (wrong_type, "error")
        assert message["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        ok = await socket.subscribe("{ me { id } }")
        assert (await socket.next_payload(ok))["data"] == {"me": {"id": learner.id}}


async def test_a_subscription_over_http_is_told_to_use_the_websocket(
    router_url: str, http: httpx.AsyncClient, learner: Account
) -> None:
    response = await http.post(
        f"{router_url}/graphql",
        json={"query": ADDED},
        headers={"Authorization": f"Bearer {learner.access_token}"},
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert "WebSocket" in error["message"]
    assert error["extensions"]["code"]


# Limits (a router with tight limits)


@BOTH
async def test_a_client_that_never_initialises_is_closed_with_4408(
    protocol: str, strict_router: str
) -> None:
    async with graphql_socket(strict_router, protocol) as socket:
        code, reason = await socket.closed(seconds=3)
    assert (code, reason) == (4408, "Connection initialisation timeout")


@BOTH
async def test_the_router_keeps_the_connection_alive(
    protocol: str, strict_router: str, learner: Account
) -> None:
    async with graphql_socket(strict_router, protocol) as socket:
        await socket.init(learner.access_token)
        # not synchronisation: an idle while in which the router must ping (every 0.2 s)
        await asyncio.sleep(0.7)
        operation = await socket.subscribe("{ me { id } }")
        await socket.next_payload(operation)
        keepalive = {"type": "ping"} if protocol == TRANSPORT_WS else {"type": "ka"}
        assert socket.skipped.count(keepalive) >= 2


async def test_operations_per_connection_are_bounded(strict_router: str, learner: Account) -> None:
    async with graphql_socket(strict_router, TRANSPORT_WS) as socket:
        await socket.init(learner.access_token)
        await socket.subscribe(ADDED)
        await socket.subscribe(ADDED)
        third = await socket.subscribe(ADDED)
        message = await socket.receive()
        assert (message["id"], message["type"]) == (third, "error")
        assert "At most 2 operations" in message["payload"][0]["message"]
        assert message["payload"][0]["extensions"]["code"] == "BAD_REQUEST"


# The notifications subgraph itself (behind the router, but it trusts nothing)


async def test_the_subgraph_verifies_a_token_sent_in_connection_init(
    subgraph_urls: dict[str, str], learner: Account
) -> None:
    async with graphql_socket(subgraph_urls["notifications"]) as socket:
        assert (await socket.init(learner.access_token))["type"] == "connection_ack"
        operation = await socket.subscribe(UNREAD_COUNT)
        payload = await socket.next_payload(operation)
        assert isinstance(payload["data"]["unreadCountChanged"], int)
    async with graphql_socket(subgraph_urls["notifications"]) as socket:
        tampered = f"Bearer {_tampered(learner.access_token)}"
        await socket.send({"type": "connection_init", "payload": {"Authorization": tampered}})
        assert (await socket.closed())[0] == 4403


async def test_the_subgraph_refuses_to_stream_to_nobody(subgraph_urls: dict[str, str]) -> None:
    async with graphql_socket(subgraph_urls["notifications"]) as socket:
        assert (await socket.init())["type"] == "connection_ack"
        operation = await socket.subscribe(UNREAD_COUNT)
        payload = await socket.next_payload(operation)
        assert payload["data"] is None
        assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@BOTH
async def test_a_fragment_bomb_over_the_socket_is_an_operation_error(
    protocol: str, router_url: str, learner: Account
) -> None:
    bomb = Bomb(12, 10, "Subscription", "unreadCountChanged").query.replace(
        "{ ...F0 }", "subscription { ...F0 }", 1
    )
    async with graphql_socket(router_url, protocol) as socket:
        await socket.init(learner.access_token)
        operation = await socket.subscribe(bomb)
        message = await socket.receive()
        assert message["id"] == operation
        assert message["type"] == "error"
        errors = (
            message["payload"] if isinstance(message["payload"], list) else [message["payload"]]
        )
        assert set(error_codes({"errors": errors})) == {
            "MAX_RECURSIVE_SELECTIONS_LIMIT",
            "MAX_ROOT_FIELDS_LIMIT",
        }
        follow_up = await socket.subscribe("{ me { id } }")
        assert (await socket.next_payload(follow_up)) == {"data": {"me": {"id": learner.id}}}
