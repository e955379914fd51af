"""Password reset by e-mail through the router, the links read from the real SMTP sink:
the same answer and timing for known and unknown addresses, single-use expiring links of
which only the latest works, every session ended, throttled; passwordless accounts set
their first password the same way."""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

import httpx

from common.settings import Settings
from tests.accounts import Account, login, register
from tests.email_links import RESET, expire_links, nth_token, tokens_in
from tests.integration.users.second_factor import enable_mfa, fresh_address, post
from tests.integration.users.test_external_sign_in import audit_kinds, person, sign_in, signed_in
from tests.oidc_provider import OpenIDProvider
from tests.sinks import SmtpSink
from tests.support import GraphQLClient, error_codes

REQUEST_RESET = """
mutation($email: String!) { requestPasswordReset(input: {email: $email}) { accepted } }
"""
RESET_PASSWORD = """
mutation($token: String!, $password: String!) {
  resetPassword(input: {token: $token, newPassword: $password}) { success }
}
"""
REFRESH = "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { accessToken } }"
ME = "{ me { id emailVerified } }"
NEW_PASSWORD = "a-brand-new-passphrase"


async def ask(users: GraphQLClient, email: str, address: str | None = None) -> dict[str, Any]:
    return await post(users, REQUEST_RESET, {"email": email}, address=address or fresh_address())


async def reset(users: GraphQLClient, token: str, password: str = NEW_PASSWORD) -> dict[str, Any]:
    return await users.execute(RESET_PASSWORD, {"token": token, "password": password})


def unknown_email() -> str:
    return f"nobody-{uuid.uuid4().hex[:12]}@example.org"


async def test_a_reset_link_sets_the_password_once_and_ends_every_session(
    users: GraphQLClient, smtp_sink: SmtpSink, learner: Account, admin: Account
) -> None:
    assert await ask(users, learner.email) == {"data": {"requestPasswordReset": {"accepted": True}}}
    token = await nth_token(smtp_sink, learner.email, RESET)
    weak = await reset(users, token, "short")
    assert error_codes(weak) == ["BAD_USER_INPUT"]
    assert weak["errors"][0]["extensions"]["field"] == "newPassword"
    same_as_email = await reset(users, token, learner.email)
    assert error_codes(same_as_email) == ["BAD_USER_INPUT"]
    assert await reset(users, token) == {"data": {"resetPassword": {"success": True}}}
    # the sessions of before are over: access token and refresh token
    assert error_codes(await users.execute(ME, token=learner.access_token)) == ["UNAUTHENTICATED"]
    refreshed = await users.execute(REFRESH, {"t": learner.refresh_token})
    assert error_codes(refreshed) == ["UNAUTHENTICATED"]
    assert error_codes(await login(users, learner.email)) == ["UNAUTHENTICATED"]
    signed = await login(users, learner.email, NEW_PASSWORD)
    assert "errors" not in signed
    # the link proved the address
    fresh = signed["data"]["login"]["accessToken"]
    assert (await users.data(ME, token=fresh))["me"]["emailVerified"] is True
    replay = await reset(users, token, "yet-another-passphrase")
    assert error_codes(replay) == ["BAD_USER_INPUT"]
    assert "already used" in replay["errors"][0]["message"]
    kinds = await audit_kinds(users, admin, learner.id)
    assert {"PASSWORD_RESET_REQUESTED", "PASSWORD_RESET"} <= set(kinds)


async def test_only_the_latest_link_works_and_an_expired_one_does_not(
    users: GraphQLClient, smtp_sink: SmtpSink, migrated: Settings, learner: Account
) -> None:
    await ask(users, learner.email)
    first = await nth_token(smtp_sink, learner.email, RESET)
    await ask(users, learner.email)
    second = await nth_token(smtp_sink, learner.email, RESET, 2)
    superseded = await reset(users, first)
    assert error_codes(superseded) == ["BAD_USER_INPUT"]
    await expire_links(migrated, learner.id)
    expired = await reset(users, second)
    assert error_codes(expired) == ["BAD_USER_INPUT"]
    assert "expired" in expired["errors"][0]["message"]
    assert "errors" not in await login(users, learner.email)  # the password is unchanged


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    users: GraphQLClient, smtp_sink: SmtpSink, learner: Account
) -> None:
    nobody = unknown_email()
    unknown = await ask(users, nobody)
    known = await ask(users, learner.email)
    assert unknown == known == {"data": {"requestPasswordReset": {"accepted": True}}}
    await nth_token(smtp_sink, learner.email, RESET)  # the later request's mail has arrived
    assert [m for m in smtp_sink.messages if str(m["To"]) == nobody] == []


async def test_malformed_addresses_are_refused_with_a_code(users: GraphQLClient) -> None:
    for email in ["", "no-at-sign", "a@b", "x" * 300 + "@example.org", "a@example.org\r\nBcc: b@x"]:
        body = await ask(users, email)
        assert error_codes(body) == ["BAD_USER_INPUT"], email
        assert body["errors"][0]["extensions"]["field"] == "email"


async def test_requests_are_throttled_per_address_typed_alike_for_unknown_ones(
    users: GraphQLClient, migrated: Settings, learner: Account
) -> None:
    nobody = unknown_email()
    for _ in range(migrated.password_resets_per_email_hour):
        assert "errors" not in await ask(users, learner.email)
        assert "errors" not in await ask(users, nobody)
    limited_known = await ask(users, learner.email)
    limited_unknown = await ask(users, nobody)
    assert error_codes(limited_known) == error_codes(limited_unknown) == ["RATE_LIMITED"]
    assert limited_known["errors"][0]["message"] == limited_unknown["errors"][0]["message"]


async def test_requests_are_throttled_per_client_address(
    users: GraphQLClient, migrated: Settings
) -> None:
    address = fresh_address()
    for _ in range(migrated.password_resets_per_address_hour):
        assert "errors" not in await ask(users, unknown_email(), address)
    limited = await ask(users, unknown_email(), address)
    assert error_codes(limited) == ["RATE_LIMITED"]
    assert "network address" in limited["errors"][0]["message"]
    assert "errors" not in await ask(users, unknown_email(), fresh_address())


async def test_known_and_unknown_addresses_answer_in_the_same_time(
    users: GraphQLClient, http: httpx.AsyncClient
) -> None:
    """The one timing assertion the issue asks for: medians of alternating requests for
    known and unknown addresses differ by less than a generous absolute bound."""
    rounds = 12
    accounts = [await register(users) for _ in range(rounds)]
    known: list[float] = []
    unknown: list[float] = []
    for account in accounts:
        for email, times in ((account.email, known), (unknown_email(), unknown)):
            started = time.perf_counter()
            body = await ask(users, email)
            times.append(time.perf_counter() - started)
            assert body == {"data": {"requestPasswordReset": {"accepted": True}}}
    assert abs(statistics.median(known) - statistics.median(unknown)) < 0.050


async def test_a_passwordless_account_sets_a_first_password_through_its_address(
    users: GraphQLClient,
    http: httpx.AsyncClient,
    provider: OpenIDProvider,
    smtp_sink: SmtpSink,
    admin: Account,
) -> None:
    who = person()
    assert who.email is not None
    payload = signed_in(await sign_in(users, http, provider, who))
    assert error_codes(await login(users, who.email, NEW_PASSWORD)) == ["UNAUTHENTICATED"]
    await ask(users, who.email)
    assert await reset(users, await nth_token(smtp_sink, who.email, RESET)) == {
        "data": {"resetPassword": {"success": True}}
    }
    signed = await login(users, who.email, NEW_PASSWORD)
    assert signed["data"]["login"]["user"]["id"] == payload["user"]["id"]
    assert "PASSWORD_RESET" in await audit_kinds(users, admin, payload["user"]["id"])


async def test_a_reset_leaves_the_second_factor_in_place(
    users: GraphQLClient, smtp_sink: SmtpSink, learner: Account
) -> None:
    await enable_mfa(users, learner)
    await ask(users, learner.email)
    assert "errors" not in await reset(users, await nth_token(smtp_sink, learner.email, RESET))
    assert error_codes(await login(users, learner.email, NEW_PASSWORD)) == ["MFA_REQUIRED"]
    assert len(tokens_in(smtp_sink, learner.email, RESET)) == 1


async def test_another_accounts_reset_link_is_refused_while_signed_in(
    users: GraphQLClient, smtp_sink: SmtpSink, learner: Account, other_learner: Account
) -> None:
    await ask(users, learner.email)
    token = await nth_token(smtp_sink, learner.email, RESET)
    foreign = await users.execute(
        RESET_PASSWORD,
        {"token": token, "password": NEW_PASSWORD},
        token=other_learner.access_token,
    )
    assert error_codes(foreign) == ["FORBIDDEN"]
    assert "errors" not in await login(users, learner.email)  # unchanged
    assert "errors" not in await login(users, other_learner.email)
    assert "errors" not in await reset(users, token)  # its owner still can
