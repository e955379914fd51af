"""Registration is throttled per client address, and welcome e-mails per address they go
to: no flood of accounts from one place, no flood of mail to an unverified address."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from functools import partial
from typing import Any

import httpx

from common.settings import Settings
from tests.accounts import PASSWORD, REGISTER, Account, account_of, register
from tests.email_links import verify_address
from tests.integration.events.test_flows import titles
from tests.integration.users.own_users import users_behind_router
from tests.integration.users.second_factor import fresh_address
from tests.sinks import SmtpSink
from tests.support import GraphQLClient, error_codes, eventually

DELETE = "mutation { deleteUser(input: {}) { deletedUserId } }"


async def _register(users: GraphQLClient, address: str, email: str | None = None) -> dict[str, Any]:
    """A registration by a client at ``address`` (named to the router as its ingress would)."""
    email = email or f"new-{uuid.uuid4().hex[:12]}@example.org"
    response = await users.http.post(
        users.url,
        json={
            "query": REGISTER,
            "variables": {"input": {"email": email, "password": PASSWORD, "name": "New"}},
        },
        headers={"x-forwarded-for": address},
    )
    body: dict[str, Any] = response.json()
    return body


async def test_one_address_registers_a_few_accounts_an_hour_only(
    subgraph_urls: dict[str, str], migrated: Settings, http: httpx.AsyncClient
) -> None:
    limits = {"LMS_REGISTRATIONS_PER_ADDRESS_HOUR": "3"}
    async with users_behind_router(subgraph_urls, migrated, ("127.0.0.1",), **limits) as url:
        users, address = GraphQLClient(http, url), fresh_address()
        for _ in range(3):
            assert "errors" not in await _register(users, address)
        refused = await _register(users, address)
        assert error_codes(refused) == ["RATE_LIMITED"]
        assert "from your network address" in refused["errors"][0]["message"]
        assert 0 < refused["errors"][0]["extensions"]["retryAfter"] <= 3600
        assert "errors" not in await _register(users, fresh_address())


async def _welcomes(users: GraphQLClient, account: Account) -> list[str]:
    return await titles(users, account, "ACCOUNT")


async def test_an_e_mail_address_gets_one_welcome_a_day_however_often_it_is_registered(
    users: GraphQLClient, smtp_sink: SmtpSink
) -> None:
    email = f"target-{uuid.uuid4().hex[:12]}@example.org"
    first = account_of((await _register(users, fresh_address(), email))["data"]["register"])
    await verify_address(users, smtp_sink, first)
    await eventually(partial(_welcomes, users, first))
    await smtp_sink.wait_for(lambda message: welcome_to(message, email), within=30)
    await users.data(DELETE, token=first.access_token)
    again = account_of((await _register(users, fresh_address(), email))["data"]["register"])
    await verify_address(users, smtp_sink, again, nth=2)
    # a later registration's welcome, seen delivered, marks that the one before was handled
    sentinel = await register(users)
    await verify_address(users, smtp_sink, sentinel)
    await eventually(partial(_welcomes, users, sentinel), within=30)
    await smtp_sink.wait_for(lambda message: welcome_to(message, sentinel.email), within=30)
    assert await _welcomes(users, again) == []
    assert len([m for m in smtp_sink.messages if welcome_to(m, email)]) == 1


def welcome_to(message: EmailMessage, email: str) -> bool:
    return str(message["To"]) == email and "Welcome" in str(message["Subject"])
