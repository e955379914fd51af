"""Brute force: failed sign-ins lock the account at one client address, then the address, with
growing waits; the account as a whole is only slowed down, never for a device it knows.

Through the router, which tells the subgraph who is calling (X-Forwarded-For); the tests
play several client addresses by sending that header to the router. LMS_SIGN_IN_LOCKOUT is
1 second in the test session, and lockouts are read on a clock the tests move past them.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

from common.settings import Settings
from tests.accounts import LOGIN, PASSWORD, Account, register
from tests.clock import MovableClock, seconds_to_wait
from tests.support import GraphQLClient, error_codes

WRONG = "not-the-password"


async def _login(
    users: GraphQLClient, email: str, password: str, address: str = "192.0.2.10"
) -> dict[str, Any]:
    response = await users.http.post(
        users.url,
        json={"query": LOGIN, "variables": {"input": {"email": email, "password": password}}},
        headers={"x-forwarded-for": address},
    )
    body: dict[str, Any] = response.json()
    return body


async def test_five_failures_lock_the_account_at_that_address_only(users: GraphQLClient) -> None:
    account: Account = await register(users)
    for _ in range(5):
        assert error_codes(await _login(users, account.email, WRONG)) == ["UNAUTHENTICATED"]
    locked = await _login(users, account.email, PASSWORD)
    assert error_codes(locked) == ["RATE_LIMITED"]
    assert "this account from your network address" in locked["errors"][0]["message"]
    assert locked["errors"][0]["extensions"]["retryAfter"] == seconds_to_wait(locked)
    assert locked["data"] is None
    # the owner, elsewhere, signs in; someone else, from the same address, too
    assert "errors" not in await _login(users, account.email, PASSWORD, "192.0.2.11")
    other = await register(users)
    assert "errors" not in await _login(users, other.email, PASSWORD)


async def test_each_failure_after_a_lockout_doubles_it_and_success_clears_it(
    users: GraphQLClient, clock: MovableClock
) -> None:
    account = await register(users)
    for _ in range(5):
        await _login(users, account.email, WRONG, "192.0.2.20")
    assert seconds_to_wait(await _login(users, account.email, PASSWORD, "192.0.2.20")) == 1
    clock.advance(1)
    await _login(users, account.email, WRONG, "192.0.2.20")  # the sixth failure
    assert seconds_to_wait(await _login(users, account.email, PASSWORD, "192.0.2.20")) == 2
    clock.advance(1)  # half-way through, still locked
    assert error_codes(await _login(users, account.email, PASSWORD, "192.0.2.20")) == [
        "RATE_LIMITED"
    ]
    clock.advance(1)
    assert "errors" not in await _login(users, account.email, PASSWORD, "192.0.2.20")
    # cleared: one more failure is just a failure again
    assert error_codes(await _login(users, account.email, WRONG)) == ["UNAUTHENTICATED"]
    assert "errors" not in await _login(users, account.email, PASSWORD)


async def test_unknown_emails_count_too_and_leak_nothing(users: GraphQLClient) -> None:
    ghost = f"nobody-{uuid.uuid4().hex[:8]}@example.org"
    for _ in range(5):
        assert error_codes(await _login(users, ghost, WRONG)) == ["UNAUTHENTICATED"]
    assert error_codes(await _login(users, ghost, WRONG)) == ["RATE_LIMITED"]


async def test_one_address_trying_many_accounts_is_locked_out(users: GraphQLClient) -> None:
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    results = await asyncio.gather(
        *(
            _login(users, f"spray-{uuid.uuid4().hex[:8]}@example.org", WRONG, address)
            for _ in range(50)
        )
    )
    assert {error_codes(body)[0] for body in results} == {"UNAUTHENTICATED"}
    account = await register(users)
    locked = await _login(users, account.email, PASSWORD, address)
    assert error_codes(locked) == ["RATE_LIMITED"]
    assert "your network address" in locked["errors"][0]["message"]
    assert "errors" not in await _login(users, account.email, PASSWORD, "203.0.113.5")


CHANGE_PASSWORD = """
mutation($input: ChangePasswordInput!) { changePassword(input: $input) { success } }
"""


async def test_guessing_the_current_password_with_a_stolen_session_is_locked_out(
    users: GraphQLClient, clock: MovableClock
) -> None:
    """Whoever holds someone's access token cannot try passwords on changePassword."""
    account = await register(users)

    async def change(current: str) -> dict[str, Any]:
        return await users.execute(
            CHANGE_PASSWORD,
            {"input": {"currentPassword": current, "newPassword": "a-new-long-passphrase"}},
            token=account.access_token,
        )

    for _ in range(5):
        assert error_codes(await change(WRONG)) == ["BAD_USER_INPUT"]
    locked = await change(PASSWORD)
    assert error_codes(locked) == ["RATE_LIMITED"]
    assert "current-password checks" in locked["errors"][0]["message"]
    # nothing changed: the password still signs in, the session is still good
    assert "errors" not in await _login(users, account.email, PASSWORD, "192.0.2.77")
    clock.advance(seconds_to_wait(locked))
    assert "errors" not in await change(PASSWORD)


async def test_an_attacker_spraying_from_a_hundred_addresses_gets_the_hourly_guesses_only(
    users: GraphQLClient, clock: MovableClock, migrated: Settings
) -> None:
    """A benchmark of the brute-force protection, counted, not timed: for an hour (on the
    clock the tests move, waiting each time as long as told), an attacker tries passwords
    for one account from 100 addresses in turn; the owner signs in from home throughout."""
    per_hour = migrated.sign_in_guesses_per_account_hour
    victim = await register(users)
    home = "192.0.2.200"
    assert "errors" not in await _login(users, victim.email, PASSWORD, home)
    subnet = random.randint(0, 255)
    attackers = [f"198.18.{subnet}.{host}" for host in range(1, 101)]
    start, guesses, refusals = clock(), 0, 0
    while clock() < start + 3600:
        body = await _login(users, victim.email, WRONG, attackers[(guesses + refusals) % 100])
        if error_codes(body) == ["UNAUTHENTICATED"]:
            guesses += 1
            continue
        assert error_codes(body) == ["RATE_LIMITED"]
        refusals += 1
        wait = body["errors"][0]["extensions"]["retryAfter"]
        assert 0 < wait <= 3600  # a delay, never a lockout
        assert "errors" not in await _login(users, victim.email, PASSWORD, home)
        clock.advance(wait)
    assert per_hour // 2 <= guesses <= per_hour
    assert "errors" not in await _login(users, victim.email, PASSWORD, home)
