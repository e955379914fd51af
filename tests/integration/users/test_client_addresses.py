"""The whole trust chain, client → (ingress →) router → users: the users subgraph believes the
router (LMS_TRUSTED_PROXIES, a network here, as docker-compose and k8s set it) and nothing
else; the router believes the ingress (`rate_limit.trusted_proxies`) and nothing else. A
client reaching the router any other way is the address it connects from (a loopback address
of its own), whatever it writes in X-Forwarded-For."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from common.settings import Settings
from tests.accounts import LOGIN, PASSWORD, register
from tests.integration.users.own_users import users_behind_router
from tests.support import GraphQLClient, error_codes

SESSIONS = "{ me { sessions { edges { node { clientAddress current } } } } }"


def own_loopback_address() -> str:
    """A loopback address no other test uses (the router and subgraphs are on 127.0.0.1)."""
    return f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


@pytest.fixture
async def chain(subgraph_urls: dict[str, str], migrated: Settings) -> AsyncIterator[str]:
    """A router with no trusted proxy, in front of a users subgraph trusting the router's
    address only."""
    trusted = {"LMS_TRUSTED_PROXIES": "127.0.0.1/32"}
    async with users_behind_router(subgraph_urls, migrated, (), **trusted) as url:
        yield url


@pytest.fixture
async def behind_ingress(
    subgraph_urls: dict[str, str], migrated: Settings
) -> AsyncIterator[tuple[str, str]]:
    """A router trusting one ingress address (and the URL), in front of a users subgraph
    trusting the router's address only."""
    ingress = own_loopback_address()
    trusted = {"LMS_TRUSTED_PROXIES": "127.0.0.1/32"}
    async with users_behind_router(subgraph_urls, migrated, (ingress,), **trusted) as url:
        yield url, ingress


async def post_from(
    url: str,
    source: str,
    query: str,
    variables: dict[str, Any],
    headers: dict[str, str],
) -> dict[str, Any]:
    """A request sent from the loopback address ``source``."""
    transport = httpx.AsyncHTTPTransport(local_address=source)
    async with httpx.AsyncClient(transport=transport, timeout=30.0) as http:
        response = await http.post(
            url, json={"query": query, "variables": variables}, headers=headers
        )
    body: dict[str, Any] = response.json()
    return body


async def sign_in(
    url: str, source: str, email: str, password: str, forwarded: str | None = None
) -> dict[str, Any]:
    """A sign-in sent from the loopback address ``source``, naming ``forwarded``."""
    headers = {"x-forwarded-for": forwarded} if forwarded is not None else {}
    variables = {"input": {"email": email, "password": password}}
    return await post_from(url, source, LOGIN, variables, headers)


async def session_address(url: str, source: str, body: dict[str, Any]) -> str:
    """The client address the users subgraph recorded for the session a sign-in began."""
    assert "errors" not in body, body
    token = body["data"]["login"]["accessToken"]
    headers = {"authorization": f"Bearer {token}"}
    listed = await post_from(url, source, SESSIONS, {}, headers)
    [current] = [
        edge["node"]
        for edge in listed["data"]["me"]["sessions"]["edges"]
        if edge["node"]["current"]
    ]
    address: str = current["clientAddress"]
    return address


async def test_a_spoofed_forwarded_for_neither_hides_a_client_nor_locks_out_another(
    chain: str, users: GraphQLClient
) -> None:
    victim = await register(users)
    attacker, victims_address = own_loopback_address(), own_loopback_address()
    spoofs = [f"203.0.113.{n}" for n in range(1, 49)] + ["unknown", "127.0.0.1"]
    answers = await asyncio.gather(
        *(
            sign_in(chain, attacker, f"spray-{uuid.uuid4().hex[:8]}@example.org", "x", spoof)
            for spoof in spoofs
        )
    )
    assert {code for body in answers for code in error_codes(body)} == {"UNAUTHENTICATED"}
    # fifty failures from one address, whatever it claimed to be: that address is locked out
    locked = await sign_in(chain, attacker, victim.email, PASSWORD, "198.51.100.99")
    assert error_codes(locked) == ["RATE_LIMITED"]
    assert "your network address" in locked["errors"][0]["message"]
    # and only that one: the victim, behind the same router, signs in
    signed_in = await sign_in(chain, victims_address, victim.email, PASSWORD)
    assert "errors" not in signed_in, signed_in


async def test_the_router_believes_the_ingress_and_only_the_ingress(
    behind_ingress: tuple[str, str], users: GraphQLClient
) -> None:
    url, ingress = behind_ingress
    account = await register(users)
    # through the ingress: the client wrote 198.51.100.7 itself, the ingress appended the
    # address it saw (203.0.113.50), and that is the one the users subgraph records
    through = await sign_in(url, ingress, account.email, PASSWORD, "198.51.100.7, 203.0.113.50")
    assert await session_address(url, ingress, through) == "203.0.113.50"
    # an untrusted hop (any other address) naming a client of its choice: its own address
    # is recorded, not the one it wrote
    stranger = own_loopback_address()
    spoofed = await sign_in(url, stranger, account.email, PASSWORD, "203.0.113.50")
    assert await session_address(url, stranger, spoofed) == stranger
