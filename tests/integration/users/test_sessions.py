"""Sign-in sessions through the router: `me.sessions` lists each one with its device, and
`revokeSession` ends one (its refresh token and its access tokens) and no other."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from common.infra.redis import RedisServer
from common.settings import Settings
from tests.accounts import LOGIN, PASSWORD, Account, account_of, register
from tests.integration.users.test_token_revocation import (
    ENDED,
    NOTIFICATIONS,
    REFRESH,
    own_platform,
    refused_at_router,
    works_at_router,
)
from tests.support import GraphQLClient, error_codes
from tests.ws import TRANSPORT_WS, graphql_socket

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
SESSION_FIELDS = "id device userAgent clientAddress createdAt lastUsedAt expiresAt current"
MY_SESSIONS = f"""
query($first: Int, $after: String) {{
  me {{ sessions(first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {SESSION_FIELDS} }} }}
  }} }}
}}
"""
USER_SESSIONS = f"""
query($id: ID!) {{ user(id: $id) {{ sessions {{ edges {{ node {{ {SESSION_FIELDS} }} }} }} }} }}
"""
REVOKE = "mutation($id: ID!) { revokeSession(input: {id: $id}) { revokedSessionId } }"
LOGOUT = "mutation($t: String!) { logout(input: {refreshToken: $t}) { revokedSessions } }"


async def post(
    users: GraphQLClient,
    query: str,
    variables: dict[str, Any],
    *,
    agent: str,
    address: str,
    token: str | None = None,
) -> dict[str, Any]:
    """A request from a client with this User-Agent at this address (the tests play the
    proxy the router trusts, naming the address in X-Forwarded-For)."""
    headers = {"user-agent": agent, "x-forwarded-for": address}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    response = await users.http.post(
        users.url, json={"query": query, "variables": variables}, headers=headers
    )
    body: dict[str, Any] = response.json()
    return body


async def sign_in(users: GraphQLClient, email: str, agent: str, address: str) -> Account:
    variables = {"input": {"email": email, "password": PASSWORD}}
    body = await post(users, LOGIN, variables, agent=agent, address=address)
    assert "errors" not in body, body
    return account_of(body["data"]["login"])


async def sessions(users: GraphQLClient, token: str, **page: Any) -> dict[str, Any]:
    listed: dict[str, Any] = (await users.data(MY_SESSIONS, page, token=token))["me"]["sessions"]
    return listed


def nodes(listed: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in listed["edges"]]


async def session_id(users: GraphQLClient, account: Account) -> str:
    """The id of the session `account`'s tokens belong to."""
    current = [
        node for node in nodes(await sessions(users, account.access_token)) if node["current"]
    ]
    assert len(current) == 1, current
    identifier: str = current[0]["id"]
    return identifier


async def test_each_sign_in_is_a_session_with_its_device_and_address(
    users: GraphQLClient, learner: Account
) -> None:
    laptop = await sign_in(users, learner.email, FIREFOX, "203.0.113.7")
    phone = await sign_in(users, learner.email, SAFARI_IPHONE, "2001:db8::42")
    listed = await sessions(users, laptop.access_token)
    assert listed["totalCount"] == 3  # registering signed in too
    newest, middle, oldest = nodes(listed)
    assert (newest["device"], newest["userAgent"]) == ("Safari on iOS", SAFARI_IPHONE)
    assert newest["clientAddress"] == "2001:db8::42"
    assert (middle["device"], middle["clientAddress"]) == ("Firefox on Windows", "203.0.113.7")
    assert [node["current"] for node in (newest, middle, oldest)] == [False, True, False]
    assert oldest["device"].startswith("python-httpx")
    assert newest["createdAt"] >= middle["createdAt"] >= oldest["createdAt"]
    assert middle["expiresAt"] > middle["lastUsedAt"] == middle["createdAt"]
    # each session knows itself as the current one
    assert [n["current"] for n in nodes(await sessions(users, phone.access_token))] == [
        True,
        False,
        False,
    ]


async def test_a_refresh_is_the_same_session_used_again_from_where_it_came(
    users: GraphQLClient, learner: Account
) -> None:
    laptop = await sign_in(users, learner.email, FIREFOX, "203.0.113.7")
    before = next(n for n in nodes(await sessions(users, laptop.access_token)) if n["current"])
    body = await post(
        users, REFRESH, {"t": laptop.refresh_token}, agent=SAFARI_IPHONE, address="198.51.100.9"
    )
    refreshed = account_of(body["data"]["refreshToken"])
    listed = await sessions(users, refreshed.access_token)
    assert listed["totalCount"] == 2
    after = next(n for n in nodes(listed) if n["current"])
    assert after["id"] == before["id"]
    assert after["createdAt"] == before["createdAt"]
    assert after["lastUsedAt"] > before["lastUsedAt"]
    assert (after["clientAddress"], after["device"]) == ("198.51.100.9", "Safari on iOS")


async def test_the_sessions_come_in_pages(users: GraphQLClient, learner: Account) -> None:
    for n in range(3):
        await sign_in(users, learner.email, FIREFOX, f"203.0.113.{n + 1}")
    first = await sessions(users, learner.access_token, first=3)
    assert (first["totalCount"], len(first["edges"]), first["pageInfo"]["hasNextPage"]) == (
        4,
        3,
        True,
    )
    rest = await sessions(
        users, learner.access_token, first=3, after=first["pageInfo"]["endCursor"]
    )
    assert len(rest["edges"]) == 1
    assert not rest["pageInfo"]["hasNextPage"]
    seen = {node["id"] for node in nodes(first) + nodes(rest)}
    assert len(seen) == 4
    bad = await users.execute(MY_SESSIONS, {"first": 1000}, token=learner.access_token)
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    forged = await users.execute(MY_SESSIONS, {"after": "not-a-cursor"}, token=learner.access_token)
    assert error_codes(forged) == ["BAD_USER_INPUT"]


async def test_a_user_agent_is_stored_bounded_and_without_control_characters(
    users: GraphQLClient, learner: Account
) -> None:
    agent = "Firefox/1\t" + "x" * 5000  # a tab: the one control character HTTP lets through
    account = await sign_in(users, learner.email, agent, "203.0.113.7")
    current = next(n for n in nodes(await sessions(users, account.access_token)) if n["current"])
    assert current["userAgent"] == ("Firefox/1" + "x" * 5000)[:512]
    assert current["device"] == "Firefox"


async def test_revoking_a_session_ends_its_refresh_and_access_tokens_and_no_other(
    users: GraphQLClient,
    learner: Account,
    subgraph_urls: dict[str, str],
    http: httpx.AsyncClient,
) -> None:
    stolen = await sign_in(users, learner.email, FIREFOX, "203.0.113.66")
    target = await session_id(users, stolen)
    revoked = await users.data(REVOKE, {"id": target}, token=learner.access_token)
    assert revoked["revokeSession"]["revokedSessionId"] == target
    await refused_at_router(users, stolen.access_token)
    direct = GraphQLClient(http, f"{subgraph_urls['notifications']}/graphql")
    body = await direct.execute(NOTIFICATIONS, token=stolen.access_token)
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert ENDED in str(body)
    refresh = await users.execute(REFRESH, {"t": stolen.refresh_token})
    assert error_codes(refresh) == ["UNAUTHENTICATED"]
    # the session that acted goes on, and the revoked one is no longer listed
    await works_at_router(users, learner.access_token)
    assert [n["current"] for n in nodes(await sessions(users, learner.access_token))] == [True]
    again = await users.execute(REVOKE, {"id": target}, token=learner.access_token)
    assert error_codes(again) == ["NOT_FOUND"]


async def test_revoking_the_current_session_is_signing_out(
    users: GraphQLClient, learner: Account
) -> None:
    other = await sign_in(users, learner.email, FIREFOX, "203.0.113.7")
    mine = await session_id(users, learner)
    await users.data(REVOKE, {"id": mine}, token=learner.access_token)
    await refused_at_router(users, learner.access_token)
    refresh = await users.execute(REFRESH, {"t": learner.refresh_token})
    assert error_codes(refresh) == ["UNAUTHENTICATED"]
    await works_at_router(users, other.access_token)


async def test_signing_out_one_session_ends_its_access_tokens_too(
    users: GraphQLClient, learner: Account
) -> None:
    other = await sign_in(users, learner.email, FIREFOX, "203.0.113.7")
    signed_out = await users.data(LOGOUT, {"t": other.refresh_token})
    assert signed_out["logout"]["revokedSessions"] == 1
    await refused_at_router(users, other.access_token)
    await works_at_router(users, learner.access_token)


async def test_another_users_session_is_not_found_and_goes_on(
    users: GraphQLClient, learner: Account, other_learner: Account
) -> None:
    theirs = await session_id(users, other_learner)
    body = await users.execute(REVOKE, {"id": theirs}, token=learner.access_token)
    unknown = await users.execute(REVOKE, {"id": str(uuid.uuid4())}, token=learner.access_token)
    assert error_codes(body) == error_codes(unknown) == ["NOT_FOUND"]
    # the same answer as for an id that does not exist: nothing tells it is someone's
    assert body["errors"][0]["message"] == f"You have no session with id {theirs}."
    await works_at_router(users, other_learner.access_token)
    refreshed = await users.execute(REFRESH, {"t": other_learner.refresh_token})
    assert "errors" not in refreshed
    # nor can they read another user's sessions
    listing = await users.execute(
        USER_SESSIONS, {"id": other_learner.id}, token=learner.access_token
    )
    assert error_codes(listing) == ["FORBIDDEN"]


@pytest.mark.parametrize("malformed", ["not-a-uuid", "", "1' OR '1'='1", "0" * 5000])
async def test_a_malformed_session_id_is_bad_input(
    users: GraphQLClient, learner: Account, malformed: str
) -> None:
    body = await users.execute(REVOKE, {"id": malformed}, token=learner.access_token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    await works_at_router(users, learner.access_token)


async def test_revoking_needs_a_signed_in_caller(users: GraphQLClient, learner: Account) -> None:
    body = await users.execute(REVOKE, {"id": await session_id(users, learner)})
    assert error_codes(body) == ["UNAUTHENTICATED"]
    await works_at_router(users, learner.access_token)


async def test_an_administrator_lists_and_ends_a_users_sessions(
    users: GraphQLClient, learner: Account, admin: Account
) -> None:
    listed = await users.data(USER_SESSIONS, {"id": learner.id}, token=admin.access_token)
    (only,) = [edge["node"] for edge in listed["user"]["sessions"]["edges"]]
    assert only["current"] is False  # the learner's, not the admin's
    await users.data(REVOKE, {"id": only["id"]}, token=admin.access_token)
    await refused_at_router(users, learner.access_token)
    await works_at_router(users, admin.access_token)


async def test_the_revocation_is_in_the_audit_log(
    users: GraphQLClient, learner: Account, admin: Account
) -> None:
    mine = await session_id(users, learner)
    await users.data(REVOKE, {"id": mine}, token=learner.access_token)
    events = await users.data(
        """query($id: ID!) { securityEvents(filter: {userId: $id, kinds: [SESSION_REVOKED]}) {
             edges { node { actorId subjectId details } } } }""",
        {"id": learner.id},
        token=admin.access_token,
    )
    (event,) = [edge["node"] for edge in events["securityEvents"]["edges"]]
    assert (event["actorId"], event["subjectId"]) == (learner.id, learner.id)
    assert event["details"] == {"session_id": mine}


async def test_a_session_revoked_while_redis_is_down_ends_once_it_is_back(
    own_redis: RedisServer,
    migrated: Settings,
    subgraph_urls: dict[str, str],
    http: httpx.AsyncClient,
) -> None:
    """The end is recorded in PostgreSQL; Redis, back empty, is written it again."""
    async with own_platform(own_redis, migrated, subgraph_urls, http) as platform:
        users = platform.users
        account = await register(users)
        other = await sign_in(users, account.email, FIREFOX, "203.0.113.7")
        target = await session_id(users, other)
        await asyncio.to_thread(own_redis.stop)
        revoked = await users.data(REVOKE, {"id": target}, token=account.access_token)
        assert revoked["revokeSession"]["revokedSessionId"] == target
        await platform.refused_once_redis_is_back(other.access_token)
        await works_at_router(users, account.access_token)


async def test_a_subscription_of_a_revoked_session_ends_at_the_router_and_the_subgraph(
    users: GraphQLClient, learner: Account, router_url: str, subgraph_urls: dict[str, str]
) -> None:
    """Live streams authenticated by the session's access token end with it."""
    other = await sign_in(users, learner.email, FIREFOX, "203.0.113.7")
    async with (
        graphql_socket(router_url, TRANSPORT_WS) as routed,
        graphql_socket(subgraph_urls["notifications"], TRANSPORT_WS) as direct,
    ):
        operations = []
        for socket in (routed, direct):
            assert (await socket.init(other.access_token))["type"] == "connection_ack"
            operation = await socket.subscribe("subscription { unreadCountChanged }")
            assert "unreadCountChanged" in (await socket.next_payload(operation))["data"]
            operations.append(operation)
        target = await session_id(users, other)
        await users.data(REVOKE, {"id": target}, token=learner.access_token)
        for socket, operation in zip((routed, direct), operations, strict=True):
            for _ in range(10):  # count updates (the welcome notification) may come first
                message = await socket.next_payload(operation)
                if "errors" in message:
                    break
            assert error_codes(message) == ["UNAUTHENTICATED"]
            assert ENDED in message["errors"][0]["message"]
    await works_at_router(users, learner.access_token)
