"""Ending sessions ends their access tokens at once, at the router and at every subgraph.

Without it an access token outlives its account, its roles and "sign out everywhere" for up
to 15 minutes (common/auth/revocations.py says how the list reaches every verifier).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import asyncpg
import httpx
from redis.asyncio import Redis

from common.auth.revocations import CHANNEL
from common.db.engine import dsn, role_name
from common.infra.ports import free_port
from common.infra.redis import RedisServer
from common.settings import Settings
from tests.accounts import AUTH_FIELDS, PASSWORD, Account, account_with_roles, login, register
from tests.conftest import serve_router, subgraph_app
from tests.support import GraphQLClient, error_codes, eventually, serve
from tests.ws import TRANSPORT_WS, graphql_socket

ME = "{ me { id roles } }"
NOTIFICATIONS = "{ notifications(first: 1) { totalCount } }"
LOGOUT_ALL = """
mutation($t: String!) { logout(input: {refreshToken: $t, allSessions: true}) { revokedSessions } }
"""
REFRESH = f"""
mutation($t: String!) {{ refreshToken(input: {{refreshToken: $t}}) {{ {AUTH_FIELDS} }} }}
"""
ENDED = "This session has ended"


async def refused_at_router(users: GraphQLClient, token: str) -> None:
    """The router answers 401 for the token, at once or within the moment the revocation
    takes to cross Redis (pub/sub: milliseconds; two seconds at most here)."""
    for _ in range(40):
        response = await users.http.post(
            users.url, json={"query": ME}, headers={"authorization": f"Bearer {token}"}
        )
        if response.status_code != 200:
            break
        await asyncio.sleep(0.05)
    assert response.status_code == 401, response.text
    body = response.json()
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert ENDED in body["errors"][0]["message"]


async def works_at_router(users: GraphQLClient, token: str) -> dict[str, Any]:
    me: dict[str, Any] = (await users.data(ME, token=token))["me"]
    return me


async def test_a_deleted_accounts_token_is_refused_by_the_router_and_the_subgraphs(
    users: GraphQLClient, learner: Account, subgraph_urls: dict[str, str], http: httpx.AsyncClient
) -> None:
    await works_at_router(users, learner.access_token)
    await users.data(
        "mutation { deleteUser(input: {}) { deletedUserId } }", token=learner.access_token
    )
    await refused_at_router(users, learner.access_token)
    # a subgraph reached directly (behind the router's back) refuses it too (it heard of the
    # revocation by the same time: one Redis message fans out to every process)
    direct = GraphQLClient(http, f"{subgraph_urls['notifications']}/graphql")
    body = await direct.execute(NOTIFICATIONS, token=learner.access_token)
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert ENDED in body["errors"][0]["message"]


async def test_signing_out_everywhere_ends_the_access_tokens_but_not_the_next_sign_in(
    users: GraphQLClient, learner: Account
) -> None:
    await users.data(LOGOUT_ALL, {"t": learner.refresh_token})
    await refused_at_router(users, learner.access_token)
    again = (await login(users, learner.email))["data"]["login"]  # at once, same second
    assert (await works_at_router(users, again["accessToken"]))["id"] == learner.id


async def test_signing_out_one_session_leaves_the_others(
    users: GraphQLClient, learner: Account
) -> None:
    other = (await login(users, learner.email))["data"]["login"]
    await users.data(
        "mutation($t: String!) { logout(input: {refreshToken: $t}) { revokedSessions } }",
        {"t": other["refreshToken"]},
    )
    await works_at_router(users, learner.access_token)


async def test_a_changed_password_ends_every_session(
    users: GraphQLClient, learner: Account
) -> None:
    await users.data(
        "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { success } }",
        {"i": {"currentPassword": PASSWORD, "newPassword": "another-long-passphrase"}},
        token=learner.access_token,
    )
    await refused_at_router(users, learner.access_token)
    fresh = (await login(users, learner.email, "another-long-passphrase"))["data"]["login"]
    await works_at_router(users, fresh["accessToken"])


async def test_a_demoted_administrators_old_token_no_longer_counts(
    users: GraphQLClient, migrated: Settings
) -> None:
    boss = await account_with_roles(users, migrated, ["ADMIN", "STUDENT"], "Boss")
    demoted = await account_with_roles(users, migrated, ["ADMIN", "STUDENT"], "Soon Student")
    assert "ADMIN" in (await works_at_router(users, demoted.access_token))["roles"]
    await users.data(
        "mutation($i: SetUserRolesInput!) { setUserRoles(input: $i) { user { roles } } }",
        {"i": {"userId": demoted.id, "roles": ["STUDENT"]}},
        token=boss.access_token,
    )
    await refused_at_router(users, demoted.access_token)
    relogged = (await login(users, demoted.email))["data"]["login"]
    assert (await works_at_router(users, relogged["accessToken"]))["roles"] == ["STUDENT"]
    await works_at_router(users, boss.access_token)  # the one who acted is untouched


async def test_a_reused_refresh_token_ends_the_access_tokens_too(
    users: GraphQLClient, learner: Account
) -> None:
    rotated = (await users.data(REFRESH, {"t": learner.refresh_token}))["refreshToken"]
    replay = await users.execute(REFRESH, {"t": learner.refresh_token})  # a stolen copy
    assert error_codes(replay) == ["UNAUTHENTICATED"]
    await refused_at_router(users, rotated["accessToken"])


async def test_a_router_started_later_knows_earlier_revocations(
    users: GraphQLClient,
    learner: Account,
    subgraph_urls: dict[str, str],
    migrated: Settings,
    http: httpx.AsyncClient,
) -> None:
    await users.data(LOGOUT_ALL, {"t": learner.refresh_token})
    async with serve_router(subgraph_urls, migrated) as url:
        await refused_at_router(GraphQLClient(http, f"{url}/graphql"), learner.access_token)


async def test_junk_on_the_channel_is_ignored_and_the_list_keeps_working(
    users: GraphQLClient, learner: Account, other_learner: Account, migrated: Settings
) -> None:
    redis = Redis.from_url(migrated.redis_url)
    try:
        for junk in ("", "no-moment", f"{learner.id} not-a-number", "\x00" * 100):
            await redis.publish(CHANNEL, junk)
    finally:
        await redis.aclose()
    # a real revocation, published after the junk, still arrives
    await users.data(LOGOUT_ALL, {"t": other_learner.refresh_token})
    await refused_at_router(users, other_learner.access_token)
    await works_at_router(users, learner.access_token)


async def test_a_subscription_at_the_subgraph_itself_ends_too(
    users: GraphQLClient, learner: Account, subgraph_urls: dict[str, str]
) -> None:
    """Behind the router's back, straight to the notifications subgraph: same ending."""
    async with graphql_socket(subgraph_urls["notifications"], TRANSPORT_WS) as socket:
        assert (await socket.init(learner.access_token))["type"] == "connection_ack"
        operation = await socket.subscribe("subscription { unreadCountChanged }")
        assert "unreadCountChanged" in (await socket.next_payload(operation))["data"]
        await users.data(LOGOUT_ALL, {"t": learner.refresh_token})
        for _ in range(10):  # count updates (the welcome notification) may come first
            message = await socket.next_payload(operation)
            if "errors" in message:
                break
        assert error_codes(message) == ["UNAUTHENTICATED"]
        assert ENDED in message["errors"][0]["message"]
        assert await socket.receive() == {"id": operation, "type": "complete"}


@dataclass
class OwnPlatform:
    """The users and notifications subgraphs and a router on a Redis of the test's own."""

    redis: RedisServer
    users: GraphQLClient  # through the router
    direct: GraphQLClient  # the notifications subgraph, behind the router's back

    async def refused_once_redis_is_back(self, token: str) -> None:
        """The token works until Redis stops; once it is back, the router and a subgraph
        reached directly refuse it."""

        async def refused_by_router() -> bool:
            response = await self.users.http.post(
                self.users.url, json={"query": ME}, headers={"authorization": f"Bearer {token}"}
            )
            return response.status_code == 401 and ENDED in response.text

        async def refused_by_subgraph() -> bool:
            body = await self.direct.execute(NOTIFICATIONS, token=token)
            return error_codes(body) == ["UNAUTHENTICATED"] and ENDED in str(body)

        await asyncio.to_thread(self.redis.start)
        await eventually(refused_by_router)
        await eventually(refused_by_subgraph)


@contextlib.asynccontextmanager
async def own_platform(
    redis: RedisServer, settings: Settings, subgraph_urls: dict[str, str], http: httpx.AsyncClient
) -> AsyncIterator[OwnPlatform]:
    settings = replace(settings, redis_url=redis.url)
    async with contextlib.AsyncExitStack() as stack:
        own = {
            name: await stack.enter_async_context(serve(subgraph_app(name, settings), free_port()))
            for name in ("users", "notifications")
        }
        router = await stack.enter_async_context(serve_router({**subgraph_urls, **own}, settings))
        yield OwnPlatform(
            redis,
            GraphQLClient(http, f"{router}/graphql"),
            GraphQLClient(http, f"{own['notifications']}/graphql"),
        )


async def test_signing_out_everywhere_while_redis_is_down_holds_once_it_is_back(
    own_redis: RedisServer,
    migrated: Settings,
    subgraph_urls: dict[str, str],
    http: httpx.AsyncClient,
) -> None:
    """The sign-out is recorded in PostgreSQL; once Redis is back, the router and a subgraph
    reached directly refuse the old access token."""
    async with own_platform(own_redis, migrated, subgraph_urls, http) as platform:
        users = platform.users
        account = await register(users)
        assert (await works_at_router(users, account.access_token))["id"] == account.id
        assert "errors" not in await platform.direct.execute(
            NOTIFICATIONS, token=account.access_token
        )

        await asyncio.to_thread(own_redis.stop)
        signed_out = await users.data(LOGOUT_ALL, {"t": account.refresh_token})
        assert signed_out["logout"]["revokedSessions"] == 1
        await platform.refused_once_redis_is_back(account.access_token)
        again = (await login(users, account.email))["data"]["login"]
        assert (await works_at_router(users, again["accessToken"]))["id"] == account.id


@contextlib.asynccontextmanager
async def revocations_unwritable(settings: Settings) -> AsyncIterator[None]:
    """PostgreSQL refuses the users subgraph's writes to its revocation table meanwhile."""
    url = dsn(settings, settings.pg_admin_user, settings.pg_admin_password, driver="postgresql")
    table, role = "users.token_revocations", role_name("users")
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f"REVOKE INSERT, UPDATE ON {table} FROM {role}")
        yield
    finally:
        await admin.execute(f"GRANT INSERT, UPDATE ON {table} TO {role}")
        await admin.close()


async def test_a_sign_out_that_cannot_be_recorded_is_an_error_and_ends_nothing(
    users: GraphQLClient, learner: Account, migrated: Settings
) -> None:
    async with revocations_unwritable(migrated):
        body = await users.execute(LOGOUT_ALL, {"t": learner.refresh_token})
    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert body["data"] is None
    assert "token_revocations" not in str(body)  # no SQL told to the client
    # nothing half done: the sessions stand, and signing out again works
    await works_at_router(users, learner.access_token)
    await users.data(LOGOUT_ALL, {"t": learner.refresh_token})
    await refused_at_router(users, learner.access_token)
