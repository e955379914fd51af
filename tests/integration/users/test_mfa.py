"""Multi-factor sign-in with an authenticator app (TOTP) and recovery codes, through the router.

LMS_SIGN_IN_LOCKOUT is 1 second in the test session (it also sets the first lockout of the
second step), so lockouts can be waited out.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import uuid
from urllib.parse import parse_qs, unquote, urlparse

import pytest

from common.settings import Settings
from tests.accounts import PASSWORD, Account, as_users_service, login, register
from tests.clock import MovableClock, seconds_to_wait
from tests.integration.users.second_factor import (
    CONFIRM,
    DISABLE,
    MFA_STATUS,
    REGENERATE,
    START,
    Authenticator,
    enable_mfa,
    fresh_address,
    mfa_token,
    post,
    verify,
)
from tests.support import GraphQLClient, error_codes

ME = "{ me { id email } }"
REFRESH = """
mutation($token: String!) { refreshToken(input: {refreshToken: $token}) { accessToken } }
"""
RECOVERY_CODE = re.compile(r"^[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){3}$")


async def test_enrol_then_sign_in_asks_for_a_code_then_the_tokens_work(
    users: GraphQLClient, learner: Account
) -> None:
    started = (await users.data(START, token=learner.access_token))["startMfaEnrollment"]
    secret, uri = started["secret"], urlparse(started["otpauthUri"])
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)  # 160 bits in base32
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert unquote(uri.path) == f"/LMS:{learner.email}"
    assert parse_qs(uri.query) == {
        "secret": [secret],
        "issuer": ["LMS"],
        "algorithm": ["SHA1"],
        "digits": ["6"],
        "period": ["30"],
    }
    pending = (await users.data(MFA_STATUS, token=learner.access_token))["me"]["mfa"]
    assert pending == {
        "enabled": False,
        "enabledAt": None,
        "enrollmentPending": True,
        "recoveryCodesRemaining": 0,
    }
    # a pending enrolment changes nothing at sign-in
    assert "errors" not in await login(users, learner.email)

    app = Authenticator(secret)
    confirmed = await users.data(CONFIRM, {"code": app.code()}, token=learner.access_token)
    codes = confirmed["confirmMfaEnrollment"]["recoveryCodes"]
    assert confirmed["confirmMfaEnrollment"]["user"] == {"id": learner.id, "mfa": {"enabled": True}}
    assert len(codes) == len(set(codes)) == 10
    assert all(RECOVERY_CODE.match(code) for code in codes)
    status = (await users.data(MFA_STATUS, token=learner.access_token))["me"]["mfa"]
    assert status["enabled"] is True
    assert status["enabledAt"] is not None
    assert status["recoveryCodesRemaining"] == 10

    challenged = await login(users, learner.email)
    assert error_codes(challenged) == ["MFA_REQUIRED"]
    assert challenged["data"] is None
    error = challenged["errors"][0]
    assert "verifyMfa" in error["message"]
    assert error["extensions"]["mfaTokenExpiresIn"] == 300
    token = error["extensions"]["mfaToken"]
    assert len(token) >= 40
    # the wrong password still gets the plain answer, and no challenge
    wrong = await login(users, learner.email, "not-the-password")
    assert error_codes(wrong) == ["UNAUTHENTICATED"]
    assert "mfaToken" not in wrong["errors"][0]["extensions"]

    signed_in = await verify(users, token, code=app.code())
    assert "errors" not in signed_in, signed_in
    payload = signed_in["data"]["verifyMfa"]
    assert payload["user"] == {
        "id": learner.id,
        "email": learner.email,
        "name": "Test Learner",
        "roles": ["STUDENT"],
    }
    assert payload["tokenType"] == "Bearer"
    me = await users.data(ME, token=payload["accessToken"])
    assert me["me"]["id"] == learner.id
    assert "errors" not in await users.execute(REFRESH, {"token": payload["refreshToken"]})


async def test_starting_again_replaces_a_pending_secret_and_enabled_is_a_conflict(
    users: GraphQLClient, learner: Account
) -> None:
    first = (await users.data(START, token=learner.access_token))["startMfaEnrollment"]
    second = (await users.data(START, token=learner.access_token))["startMfaEnrollment"]
    assert first["secret"] != second["secret"]
    stale = await users.execute(
        CONFIRM, {"code": Authenticator(first["secret"]).code()}, token=learner.access_token
    )
    assert error_codes(stale) == ["BAD_USER_INPUT"]
    assert stale["errors"][0]["extensions"]["field"] == "code"
    await users.data(
        CONFIRM, {"code": Authenticator(second["secret"]).code()}, token=learner.access_token
    )
    again = await users.execute(START, token=learner.access_token)
    assert error_codes(again) == ["CONFLICT"]
    assert "already enabled" in again["errors"][0]["message"]
    confirm_again = await users.execute(CONFIRM, {"code": "123456"}, token=learner.access_token)
    assert error_codes(confirm_again) == ["CONFLICT"]


async def test_confirming_without_an_enrolment_is_a_conflict(
    users: GraphQLClient, learner: Account
) -> None:
    body = await users.execute(CONFIRM, {"code": "123456"}, token=learner.access_token)
    assert error_codes(body) == ["CONFLICT"]
    assert "startMfaEnrollment" in body["errors"][0]["message"]


async def test_enrolment_needs_a_signed_in_user(users: GraphQLClient) -> None:
    assert error_codes(await users.execute(START)) == ["UNAUTHENTICATED"]
    assert error_codes(await users.execute(CONFIRM, {"code": "123456"})) == ["UNAUTHENTICATED"]


async def test_a_code_once_accepted_is_refused_on_replay(
    users: GraphQLClient, learner: Account
) -> None:
    mfa = await enable_mfa(users, learner)
    code = mfa.app.code()
    assert "errors" not in await verify(users, await mfa_token(users, learner.email), code=code)
    replayed = await verify(users, await mfa_token(users, learner.email), code=code)
    assert error_codes(replayed) == ["UNAUTHENTICATED"]
    assert "already used" in replayed["errors"][0]["message"]
    assert replayed["data"] is None
    # the confirmation's code is spent too: an older step never comes back
    older = mfa.app.shown[0]
    refused = await verify(users, await mfa_token(users, learner.email), code=older)
    assert error_codes(refused) == ["UNAUTHENTICATED"]


async def test_one_code_sent_twice_at_once_signs_in_once(
    users: GraphQLClient, learner: Account
) -> None:
    mfa = await enable_mfa(users, learner)
    tokens = [await mfa_token(users, learner.email) for _ in range(2)]
    code = mfa.app.code()
    results = await asyncio.gather(*(verify(users, token, code=code) for token in tokens))
    assert sorted(error_codes(body) for body in results) == [[], ["UNAUTHENTICATED"]]


async def test_one_challenge_raced_with_two_right_codes_signs_in_once(
    users: GraphQLClient, learner: Account
) -> None:
    mfa = await enable_mfa(users, learner)
    token = await mfa_token(users, learner.email)
    first, second = mfa.app.code(), mfa.app.code()
    raced = await asyncio.gather(
        verify(users, token, code=first), verify(users, token, code=second)
    )
    assert sorted(error_codes(body) for body in raced) == [[], ["UNAUTHENTICATED"]]


async def test_a_wrong_code_is_unauthenticated_and_the_challenge_survives_it(
    users: GraphQLClient, learner: Account
) -> None:
    mfa = await enable_mfa(users, learner)
    token = await mfa_token(users, learner.email)
    wrong = await verify(users, token, code=mfa.app.wrong_code())
    assert error_codes(wrong) == ["UNAUTHENTICATED"]
    assert "The code is not valid" in wrong["errors"][0]["message"]
    assert wrong["data"] is None
    assert "errors" not in await verify(users, token, code=mfa.app.code())


@pytest.mark.parametrize(
    ("second", "field", "says"),
    [
        ({"code": "12345"}, "code", "6 digits"),
        ({"code": "1234567"}, "code", "6 digits"),
        ({"code": "12a456"}, "code", "6 digits"),
        ({"code": "١٢٣٤٥٦"}, "code", "6 digits"),  # Arabic-Indic digits are not ASCII digits
        ({"code": ""}, "code", "6 digits"),
        ({"code": "1" * 10_000}, "code", "6 digits"),
        ({"code": "123456' OR 1=1 --"}, "code", "6 digits"),
        ({"recoveryCode": "not-a-code"}, "recoveryCode", "recovery codes"),
        ({"recoveryCode": "0000-1111-OOOO-IIII"}, "recoveryCode", "recovery codes"),
        ({}, "code", "exactly one"),
        ({"code": "123456", "recoveryCode": "ABCD-EFGH-JKLM-NPQR"}, "code", "exactly one"),
    ],
)
async def test_malformed_second_factors_are_bad_input_naming_the_field(
    users: GraphQLClient, second: dict[str, str], field: str, says: str
) -> None:
    body = await post(
        users,
        "mutation($input: VerifyMfaInput!) { verifyMfa(input: $input) { accessToken } }",
        {"input": {"mfaToken": secrets.token_urlsafe(32), **second}},
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == field
    assert says in body["errors"][0]["message"]


@pytest.mark.parametrize("token", ["", "   ", "x" * 201, "tökén"])
async def test_malformed_mfa_tokens_are_bad_input(users: GraphQLClient, token: str) -> None:
    body = await verify(users, token, code="123456")
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "mfaToken"


async def test_forged_expired_and_spent_mfa_tokens_are_refused(
    users: GraphQLClient, learner: Account, migrated: Settings
) -> None:
    mfa = await enable_mfa(users, learner)
    forged = await verify(users, secrets.token_urlsafe(32), code=mfa.app.peek())
    assert error_codes(forged) == ["UNAUTHENTICATED"]
    assert "mfaToken is not valid" in forged["errors"][0]["message"]

    token = await mfa_token(users, learner.email)
    assert "errors" not in await verify(users, token, code=mfa.app.code())
    spent = await verify(users, token, code=mfa.app.peek())
    assert error_codes(spent) == ["UNAUTHENTICATED"]
    assert "already used" in spent["errors"][0]["message"]

    stale = await mfa_token(users, learner.email)
    await _age_challenges(migrated, learner.id)
    expired = await verify(users, stale, code=mfa.app.peek())
    assert error_codes(expired) == ["UNAUTHENTICATED"]
    assert "expired" in expired["errors"][0]["message"]


async def test_recovery_codes_work_once_each_in_any_spelling(
    users: GraphQLClient, learner: Account
) -> None:
    mfa = await enable_mfa(users, learner)
    code = mfa.recovery_codes[3]
    typed = code.replace("-", " ").lower()
    signed_in = await verify(users, await mfa_token(users, learner.email), recovery_code=typed)
    assert "errors" not in signed_in, signed_in
    access = signed_in["data"]["verifyMfa"]["accessToken"]
    status = (await users.data(MFA_STATUS, token=access))["me"]["mfa"]
    assert status["recoveryCodesRemaining"] == 9
    again = await verify(users, await mfa_token(users, learner.email), recovery_code=code)
    assert error_codes(again) == ["UNAUTHENTICATED"]
    assert "recovery code is not valid" in again["errors"][0]["message"]
    other = mfa.recovery_codes[4]
    assert "errors" not in await verify(
        users, await mfa_token(users, learner.email), recovery_code=other
    )


async def test_someone_elses_recovery_code_does_not_work(
    users: GraphQLClient, learner: Account, other_learner: Account
) -> None:
    mine = await enable_mfa(users, learner)
    theirs = await enable_mfa(users, other_learner)
    body = await verify(
        users, await mfa_token(users, learner.email), recovery_code=theirs.recovery_codes[0]
    )
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert mine.recovery_codes[0] != theirs.recovery_codes[0]


async def test_guessing_codes_locks_the_account_even_for_the_right_code(
    users: GraphQLClient, learner: Account, clock: MovableClock
) -> None:
    mfa = await enable_mfa(users, learner)
    address = fresh_address()
    token = await mfa_token(users, learner.email, address=address)
    for _ in range(5):
        guess = await verify(users, token, code=mfa.app.wrong_code(), address=address)
        assert error_codes(guess) == ["UNAUTHENTICATED"]
    locked = await verify(users, token, code=mfa.app.peek(), address=fresh_address())
    assert error_codes(locked) == ["RATE_LIMITED"]
    assert re.search(
        r"Too many failed verification codes for this account; try again in \d+ seconds",
        locked["errors"][0]["message"],
    )
    # recovery codes are guesses too: no way around the lockout
    by_recovery = await verify(users, token, recovery_code=mfa.recovery_codes[0])
    assert error_codes(by_recovery) == ["RATE_LIMITED"]
    # each further failure doubles the wait
    clock.advance(seconds_to_wait(locked))
    await verify(users, token, code=mfa.app.wrong_code(), address=address)
    doubled = await verify(users, token, code=mfa.app.peek(), address=address)
    assert seconds_to_wait(doubled) == 2
    assert error_codes(await verify(users, token, code=mfa.app.peek(), address=address)) == [
        "RATE_LIMITED"
    ]
    clock.advance(2)
    assert "errors" not in await verify(users, token, code=mfa.app.code(), address=address)


async def test_one_address_guessing_many_challenges_is_locked_out(
    users: GraphQLClient, learner: Account
) -> None:
    mfa = await enable_mfa(users, learner)
    address = fresh_address()
    # the real challenge first: the lockout lasts a second in the tests, and signing in with
    # the password (Argon2) can take longer than that on a loaded machine
    token = await mfa_token(users, learner.email)
    results = await asyncio.gather(
        *(
            verify(users, secrets.token_urlsafe(32), code="123456", address=address)
            for _ in range(50)
        )
    )
    assert {error_codes(body)[0] for body in results} == {"UNAUTHENTICATED"}
    locked = await verify(users, token, code=mfa.app.peek(), address=address)
    assert error_codes(locked) == ["RATE_LIMITED"]
    assert "your network address" in locked["errors"][0]["message"]
    elsewhere = await verify(users, token, code=mfa.app.code(), address=fresh_address())
    assert "errors" not in elsewhere


async def test_the_mfa_token_is_not_an_access_token(users: GraphQLClient, learner: Account) -> None:
    await enable_mfa(users, learner)
    token = await mfa_token(users, learner.email)
    body = await users.execute(ME, token=token)
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body.get("data") is None or body["data"].get("me") is None
    assert error_codes(await users.execute(START, token=token)) == ["UNAUTHENTICATED"]


async def test_disable_needs_your_password_or_a_current_code(
    users: GraphQLClient, learner: Account
) -> None:
    mfa = await enable_mfa(users, learner)
    disable = {"input": {"password": "not-the-password"}}
    wrong = await users.execute(DISABLE, disable, token=learner.access_token)
    assert error_codes(wrong) == ["BAD_USER_INPUT"]
    assert wrong["errors"][0]["extensions"]["field"] == "password"
    wrong_code = await users.execute(
        DISABLE, {"input": {"code": mfa.app.wrong_code()}}, token=learner.access_token
    )
    assert error_codes(wrong_code) == ["BAD_USER_INPUT"]
    assert wrong_code["errors"][0]["extensions"]["field"] == "code"
    both = await users.execute(
        DISABLE, {"input": {"password": PASSWORD, "code": "123456"}}, token=learner.access_token
    )
    assert error_codes(both) == ["BAD_USER_INPUT"]
    assert error_codes(await users.execute(DISABLE, {"input": {"password": PASSWORD}})) == [
        "UNAUTHENTICATED"
    ]
    assert error_codes(await login(users, learner.email)) == ["MFA_REQUIRED"]

    done = await users.data(
        DISABLE, {"input": {"code": mfa.app.code()}}, token=learner.access_token
    )
    assert done["disableMfa"]["user"]["id"] == learner.id
    assert "errors" not in await login(users, learner.email)
    status = (await users.data(MFA_STATUS, token=learner.access_token))["me"]["mfa"]
    assert status == {
        "enabled": False,
        "enabledAt": None,
        "enrollmentPending": False,
        "recoveryCodesRemaining": 0,
    }
    again = await users.execute(
        DISABLE, {"input": {"password": PASSWORD}}, token=learner.access_token
    )
    assert error_codes(again) == ["CONFLICT"]
    # the old secret and recovery codes are gone with it: enrolling starts afresh
    fresh = (await users.data(START, token=learner.access_token))["startMfaEnrollment"]
    assert fresh["secret"] != mfa.app.secret


async def test_another_users_mfa_cannot_be_disabled_except_by_an_admin(
    users: GraphQLClient, learner: Account, other_learner: Account, admin: Account
) -> None:
    await enable_mfa(users, learner)
    for proof in ({"password": PASSWORD}, {"code": "123456"}):
        body = await users.execute(
            DISABLE, {"input": {"userId": learner.id, **proof}}, token=other_learner.access_token
        )
        assert error_codes(body) == ["FORBIDDEN"]
    assert error_codes(await login(users, learner.email)) == ["MFA_REQUIRED"]
    # an administrator can, for someone who lost their phone, proving it is them
    not_theirs = await users.execute(
        DISABLE,
        {"input": {"userId": learner.id, "password": PASSWORD + "!"}},
        token=admin.access_token,
    )
    assert error_codes(not_theirs) == ["BAD_USER_INPUT"]
    done = await users.data(
        DISABLE, {"input": {"userId": learner.id, "password": PASSWORD}}, token=admin.access_token
    )
    assert done["disableMfa"]["user"]["id"] == learner.id
    assert "errors" not in await login(users, learner.email)


async def test_regenerating_recovery_codes_needs_a_code_and_retires_the_old_ones(
    users: GraphQLClient, learner: Account
) -> None:
    not_enabled = await users.execute(REGENERATE, {"code": "123456"}, token=learner.access_token)
    assert error_codes(not_enabled) == ["CONFLICT"]
    mfa = await enable_mfa(users, learner)
    malformed = await users.execute(REGENERATE, {"code": "12 34"}, token=learner.access_token)
    assert error_codes(malformed) == ["BAD_USER_INPUT"]
    assert malformed["errors"][0]["extensions"]["field"] == "code"
    wrong = await users.execute(
        REGENERATE, {"code": mfa.app.wrong_code()}, token=learner.access_token
    )
    assert error_codes(wrong) == ["BAD_USER_INPUT"]
    fresh = (await users.data(REGENERATE, {"code": mfa.app.code()}, token=learner.access_token))[
        "regenerateRecoveryCodes"
    ]["recoveryCodes"]
    assert len(fresh) == 10
    assert not set(fresh) & set(mfa.recovery_codes)
    old = await verify(
        users, await mfa_token(users, learner.email), recovery_code=mfa.recovery_codes[0]
    )
    assert error_codes(old) == ["UNAUTHENTICATED"]
    new = await verify(users, await mfa_token(users, learner.email), recovery_code=fresh[0])
    assert "errors" not in new


async def test_mfa_status_is_private_to_the_user_and_admins(
    users: GraphQLClient, learner: Account, other_learner: Account, admin: Account
) -> None:
    await enable_mfa(users, learner)
    query = "query($id: ID!) { user(id: $id) { name mfa { enabled recoveryCodesRemaining } } }"
    peeking = await users.execute(query, {"id": learner.id}, token=other_learner.access_token)
    assert error_codes(peeking) == ["FORBIDDEN"]
    seen = await users.data(query, {"id": learner.id}, token=admin.access_token)
    assert seen["user"]["mfa"] == {"enabled": True, "recoveryCodesRemaining": 10}


async def test_an_account_deleted_mid_sign_in_cannot_finish_it(
    users: GraphQLClient, learner: Account
) -> None:
    mfa = await enable_mfa(users, learner)
    token = await mfa_token(users, learner.email)
    await users.data(
        "mutation { deleteUser(input: {}) { deletedUserId } }", token=learner.access_token
    )
    body = await verify(users, token, code=mfa.app.peek())
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_a_new_account_has_no_mfa(users: GraphQLClient) -> None:
    account = await register(users)
    status = (await users.data(MFA_STATUS, token=account.access_token))["me"]["mfa"]
    assert status["enabled"] is False
    assert status["enrollmentPending"] is False


async def _age_challenges(settings: Settings, user_id: str) -> None:
    """Move the user's sign-in challenges past their five minutes."""
    await as_users_service(
        settings,
        "UPDATE users.mfa_challenges SET expires_at = now() - interval '1 second'"
        " WHERE user_id = $1",
        uuid.UUID(user_id),
    )
