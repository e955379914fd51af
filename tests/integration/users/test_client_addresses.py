"""The whole trust chain, client → router → users, with no proxy in front of the router:
each client is the address it connects from (a loopback address of its own), whatever it
writes in X-Forwarded-For; the users subgraph believes the router (LMS_TRUSTED_PROXIES, a
network here, as docker-compose and k8s set it) and nothing else."""

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


def own_loopback_address() -> str:
    """A loopback address no other test uses (the router and subgraphs are on 127.0.0.1)."""
    return f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


@pytest.fixture
async def chain(subgraph_urls: dict[str, str], migrated: Settings) -> AsyncIterator[str]:
    """A router with no trusted proxy, in front of a users subgraph trusting the router's
    address only."""
    trusted = {"LMS_TRUSTED_PROXIES": "127.0.0.1/32"}
    async with users_behind_router(subgraph_urls, migrated, 0, **trusted) as url:
        yield url


async def sign_in(
    url: str, source: str, email: str, password: str, forwarded: str | None = None
) -> dict[str, Any]:
    """A sign-in sent from the loopback address ``source``, naming ``forwarded``."""
    headers = {"x-forwarded-for": forwarded} if forwarded is not None else {}
    variables = {"input": {"email": email, "password": password}}
    transport = httpx.AsyncHTTPTransport(local_address=source)
    async with httpx.AsyncClient(transport=transport, timeout=30.0) as http:
        response = await http.post(
            url, json={"query": LOGIN, "variables": variables}, headers=headers
        )
    body: dict[str, Any] = response.json()
    return body


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
