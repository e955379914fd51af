"""E-mail verification through the router, with the links read from the real SMTP sink:
single-use, expiring links bound to the address they went to; re-sends throttled; an
e-mail change keeps the old address until the new one is verified."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import pytest

from common.settings import Settings
from tests.accounts import PASSWORD, REGISTER, Account, account_of, login
from tests.email_links import (
    RESET,
    VERIFY,
    VERIFY_EMAIL,
    expire_links,
    nth_token,
    text_of,
    tokens_in,
    verify_address,
)
from tests.integration.users.second_factor import fresh_address, post
from tests.sinks import SmtpSink
from tests.support import GraphQLClient, error_codes

ME = "{ me { id email emailVerified pendingEmail } }"
RESEND = "mutation { resendVerificationEmail { user { emailVerified } } }"
CHANGE = """
mutation($input: RequestEmailChangeInput!) {
  requestEmailChange(input: $input) { user { email pendingEmail emailVerified } }
}
"""
REQUEST_RESET = """
mutation($email: String!) { requestPasswordReset(input: {email: $email}) { accepted } }
"""
RESET_PASSWORD = """
mutation($token: String!, $password: String!) {
  resetPassword(input: {token: $token, newPassword: $password}) { success }
}
"""


async def me(users: GraphQLClient, account: Account) -> dict[str, Any]:
    data: dict[str, Any] = (await users.data(ME, token=account.access_token))["me"]
    return data


async def verify_email(
    users: GraphQLClient, token: str, *, signed_in: Account | None = None
) -> dict[str, Any]:
    return await users.execute(
        VERIFY_EMAIL, {"token": token}, token=None if signed_in is None else signed_in.access_token
    )


def fresh_email() -> str:
    return f"new-{uuid.uuid4().hex[:12]}@example.org"


async def test_a_new_account_verifies_its_address_with_the_link_it_was_sent_once(
    users: GraphQLClient, smtp_sink: SmtpSink, migrated: Settings, learner: Account
) -> None:
    assert (await me(users, learner))["emailVerified"] is False
    token = await nth_token(smtp_sink, learner.email, VERIFY)
    [mail] = [m for m in smtp_sink.messages if str(m["To"]) == learner.email]
    assert f"{migrated.account_link_url}/verify-email?token={token}" in text_of(mail)
    verified = await verify_email(users, token)
    assert verified["data"]["verifyEmail"] == {
        "verifiedEmail": learner.email,
        "user": {"id": learner.id},
    }
    assert (await me(users, learner))["emailVerified"] is True
    replay = await verify_email(users, token)
    assert error_codes(replay) == ["BAD_USER_INPUT"]
    assert "already used" in replay["errors"][0]["message"]


async def test_an_expired_link_verifies_nothing(
    users: GraphQLClient, smtp_sink: SmtpSink, migrated: Settings, learner: Account
) -> None:
    token = await nth_token(smtp_sink, learner.email, VERIFY)
    await expire_links(migrated, learner.id)
    refused = await verify_email(users, token)
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert "expired" in refused["errors"][0]["message"]
    assert (await me(users, learner))["emailVerified"] is False


@pytest.mark.parametrize(
    "token",
    [
        secrets.token_urlsafe(32),  # well-formed, never issued
        "",
        "a" * 5000,
        "abc<script>alert(1)</script>defghijklmnopqrstuvwxyz",
        "' OR 1=1 --aaaaaaaaaaaaaaaaaaaaaa",
    ],
    ids=["forged", "empty", "huge", "markup", "sql"],
)
async def test_a_forged_or_malformed_token_is_refused_with_a_code(
    users: GraphQLClient, token: str
) -> None:
    for mutation, variables in [
        (VERIFY_EMAIL, {"token": token}),
        (RESET_PASSWORD, {"token": token, "password": "a-new-password-42"}),
    ]:
        body = await users.execute(mutation, variables)
        assert error_codes(body) == ["BAD_USER_INPUT"]
        assert body["errors"][0]["extensions"]["field"] == "token"


async def test_another_accounts_link_is_refused_while_signed_in_and_stays_usable(
    users: GraphQLClient, smtp_sink: SmtpSink, learner: Account, other_learner: Account
) -> None:
    token = await nth_token(smtp_sink, learner.email, VERIFY)
    foreign = await verify_email(users, token, signed_in=other_learner)
    assert error_codes(foreign) == ["FORBIDDEN"]
    assert (await me(users, learner))["emailVerified"] is False
    assert (await me(users, other_learner))["emailVerified"] is False
    assert "errors" not in await verify_email(users, token, signed_in=learner)


async def test_a_reset_link_does_not_verify_and_a_verification_link_does_not_reset(
    users: GraphQLClient, smtp_sink: SmtpSink, learner: Account
) -> None:
    verification = await nth_token(smtp_sink, learner.email, VERIFY)
    await users.data(REQUEST_RESET, {"email": learner.email})
    reset = await nth_token(smtp_sink, learner.email, RESET)
    as_verification = await verify_email(users, reset)
    assert error_codes(as_verification) == ["BAD_USER_INPUT"]
    as_reset = await users.execute(
        RESET_PASSWORD, {"token": verification, "password": "a-new-password-42"}
    )
    assert error_codes(as_reset) == ["BAD_USER_INPUT"]
    assert "errors" not in await login(users, learner.email)  # the password is unchanged
    assert (await me(users, learner))["emailVerified"] is False
    # each still works for what it was sent for
    assert "errors" not in await verify_email(users, verification)
    assert "errors" not in await users.execute(
        RESET_PASSWORD, {"token": reset, "password": "a-new-password-42"}
    )


async def test_a_re_send_replaces_the_link_and_is_throttled(
    users: GraphQLClient, smtp_sink: SmtpSink, migrated: Settings, learner: Account
) -> None:
    first = await nth_token(smtp_sink, learner.email, VERIFY)
    for _ in range(migrated.verification_emails_per_account_hour):
        assert "errors" not in await users.execute(RESEND, token=learner.access_token)
    limited = await users.execute(RESEND, token=learner.access_token)
    assert error_codes(limited) == ["RATE_LIMITED"]
    assert limited["errors"][0]["extensions"]["retryAfter"] > 0
    count = 1 + migrated.verification_emails_per_account_hour
    latest = await nth_token(smtp_sink, learner.email, VERIFY, count)
    assert len(tokens_in(smtp_sink, learner.email, VERIFY)) == count
    assert error_codes(await verify_email(users, first)) == ["BAD_USER_INPUT"]
    assert "errors" not in await verify_email(users, latest)
    assert error_codes(await users.execute(RESEND)) == ["UNAUTHENTICATED"]


async def test_an_already_verified_address_gets_no_new_link(
    users: GraphQLClient, smtp_sink: SmtpSink, learner: Account
) -> None:
    await verify_address(users, smtp_sink, learner)
    again = await users.execute(RESEND, token=learner.access_token)
    assert error_codes(again) == ["BAD_USER_INPUT"]
    assert "already verified" in again["errors"][0]["message"]


async def test_changing_the_address_keeps_the_old_one_until_the_new_one_is_verified(
    users: GraphQLClient, smtp_sink: SmtpSink, migrated: Settings, learner: Account
) -> None:
    await verify_address(users, smtp_sink, learner)
    await users.data(REQUEST_RESET, {"email": learner.email})
    old_reset = await nth_token(smtp_sink, learner.email, RESET)
    new = fresh_email()
    asked = await users.data(
        CHANGE,
        {"input": {"newEmail": new, "currentPassword": PASSWORD}},
        token=learner.access_token,
    )
    assert asked["requestEmailChange"]["user"] == {
        "email": learner.email,
        "pendingEmail": new,
        "emailVerified": True,
    }
    token = await nth_token(smtp_sink, new, VERIFY)
    # the old address got its one verification link only: nothing about the change
    assert len(tokens_in(smtp_sink, learner.email, VERIFY)) == 1
    assert "errors" not in await login(users, learner.email)  # still the address
    changed = await verify_email(users, token)
    assert changed["data"]["verifyEmail"]["verifiedEmail"] == new
    assert await me(users, learner) == {
        "id": learner.id,
        "email": new,
        "emailVerified": True,
        "pendingEmail": None,
    }
    assert "errors" not in await login(users, new)
    assert error_codes(await login(users, learner.email)) == ["UNAUTHENTICATED"]
    # a reset link sent to the old address no longer works
    stale = await users.execute(
        RESET_PASSWORD, {"token": old_reset, "password": "a-new-password-42"}
    )
    assert error_codes(stale) == ["BAD_USER_INPUT"]


async def test_an_address_change_needs_the_password_a_free_and_valid_address(
    users: GraphQLClient, learner: Account, other_learner: Account
) -> None:
    def change(new: str, password: str | None = PASSWORD) -> dict[str, Any]:
        return {"input": {"newEmail": new, "currentPassword": password}}

    address = fresh_address()
    cases = [
        (change(fresh_email(), "not-the-password"), "BAD_USER_INPUT", "currentPassword"),
        (change(fresh_email(), None), "BAD_USER_INPUT", "currentPassword"),
        (change("not an address"), "BAD_USER_INPUT", "newEmail"),
        (change(learner.email), "BAD_USER_INPUT", "newEmail"),
        (change(other_learner.email), "CONFLICT", "newEmail"),
    ]
    for variables, code, field in cases:
        body = await post(users, CHANGE, variables, token=learner.access_token, address=address)
        assert error_codes(body) == [code], variables
        assert body["errors"][0]["extensions"]["field"] == field
    assert (await me(users, learner))["pendingEmail"] is None
    assert error_codes(await users.execute(CHANGE, change(fresh_email()))) == ["UNAUTHENTICATED"]


async def test_an_address_taken_meanwhile_is_not_moved_to(
    users: GraphQLClient, smtp_sink: SmtpSink, learner: Account
) -> None:
    new = fresh_email()
    await users.data(
        CHANGE,
        {"input": {"newEmail": new, "currentPassword": PASSWORD}},
        token=learner.access_token,
    )
    token = await nth_token(smtp_sink, new, VERIFY)
    registered = await users.data(
        REGISTER, {"input": {"email": new, "password": PASSWORD, "name": "Quicker"}}
    )
    quicker = account_of(registered["register"])
    taken = await verify_email(users, token)
    assert error_codes(taken) == ["CONFLICT"]
    assert (await me(users, learner))["email"] == learner.email
    assert (await me(users, quicker))["email"] == new
