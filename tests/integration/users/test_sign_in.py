"""Registration, login, refresh-token rotation and logout, over HTTP."""

from __future__ import annotations

import pytest

from tests.accounts import (
    PASSWORD,
    REGISTER,
    Account,
    login,
    register,
)
from tests.support import GraphQLClient, error_codes

ME = "{ me { id email name roles } }"
REFRESH = """
mutation($token: String!) {
  refreshToken(input: {refreshToken: $token}) { accessToken refreshToken user { id } }
}
"""
LOGOUT = """
mutation($token: String!, $all: Boolean!) {
  logout(input: {refreshToken: $token, allSessions: $all}) { revokedSessions }
}
"""


async def test_register_then_login_then_me(users: GraphQLClient) -> None:
    account = await register(users, name="Grace Hopper")
    body = await login(users, account.email.upper())
    token = body["data"]["login"]["accessToken"]
    me = (await users.data(ME, token=token))["me"]
    assert me == {
        "id": account.id,
        "email": account.email,
        "name": "Grace Hopper",
        "roles": ["STUDENT"],
    }
    assert body["data"]["login"]["tokenType"] == "Bearer"
    assert body["data"]["login"]["expiresIn"] == 900


async def test_register_twice_with_same_email_is_conflict(
    users: GraphQLClient, learner: Account
) -> None:
    body = await users.execute(
        REGISTER, {"input": {"email": learner.email.upper(), "password": PASSWORD, "name": "Twin"}}
    )
    assert error_codes(body) == ["CONFLICT"]
    assert body["errors"][0]["extensions"]["field"] == "email"


@pytest.mark.parametrize(
    ("email", "password", "name", "field", "says"),
    [
        ("not-an-email", PASSWORD, "Ann", "email", "valid address"),
        ("a@b", PASSWORD, "Ann", "email", "valid address"),
        ("x" * 250 + "@example.org", PASSWORD, "Ann", "email", "valid address"),
        ("ann@example.org", "short", "Ann", "password", "at least 10"),
        ("ann@example.org", "p" * 129, "Ann", "password", "at most 128"),
        ("ann@example.org", "password123", "Ann", "password", "too easy"),
        ("ann@example.org", "aaaaaaaaaaaa", "Ann", "password", "too easy"),
        ("ann@example.org", PASSWORD, "   ", "name", "must not be empty"),
        ("ann@example.org", PASSWORD, "N" * 101, "name", "at most 100"),
        ("ann@example.org", PASSWORD, "bell\x07", "name", "control characters"),
    ],
)
async def test_register_rejects_bad_input_saying_what_is_wrong(
    users: GraphQLClient, email: str, password: str, name: str, field: str, says: str
) -> None:
    body = await users.execute(
        REGISTER, {"input": {"email": email, "password": password, "name": name}}
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    error = body["errors"][0]
    assert error["extensions"]["field"] == field
    assert says in error["message"]
    assert body["data"] is None


async def test_register_with_missing_or_mistyped_fields_fails_validation(
    users: GraphQLClient,
) -> None:
    missing = await users.execute(REGISTER, {"input": {"email": "a@example.org", "name": "A"}})
    assert error_codes(missing) == ["BAD_USER_INPUT"]
    mistyped = await users.execute(
        'mutation { register(input: {email: 42, password: "x", name: "A"}) { accessToken } }'
    )
    assert error_codes(mistyped) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    users: GraphQLClient, learner: Account
) -> None:
    wrong = await login(users, learner.email, "not-the-password")
    unknown = await login(users, "nobody-here@example.org")
    assert error_codes(wrong) == error_codes(unknown) == ["UNAUTHENTICATED"]
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]


async def test_refresh_rotates_and_reuse_revokes_the_family(
    users: GraphQLClient, learner: Account
) -> None:
    first = (await users.data(REFRESH, {"token": learner.refresh_token}))["refreshToken"]
    assert first["refreshToken"] != learner.refresh_token
    assert first["user"]["id"] == learner.id
    assert (await users.data(ME, token=first["accessToken"]))["me"]["id"] == learner.id

    reused = await users.execute(REFRESH, {"token": learner.refresh_token})
    assert error_codes(reused) == ["UNAUTHENTICATED"]
    assert "already used" in reused["errors"][0]["message"]
    # The thief's reuse also kills the legitimate successor token.
    successor = await users.execute(REFRESH, {"token": first["refreshToken"]})
    assert error_codes(successor) == ["UNAUTHENTICATED"]


async def test_logout_revokes_this_session_only_unless_asked_for_all(
    users: GraphQLClient, learner: Account
) -> None:
    second_session = (await login(users, learner.email))["data"]["login"]["refreshToken"]
    revoked = await users.data(LOGOUT, {"token": learner.refresh_token, "all": False})
    assert revoked["logout"]["revokedSessions"] == 1
    assert error_codes(await users.execute(REFRESH, {"token": learner.refresh_token})) == [
        "UNAUTHENTICATED"
    ]
    still = await users.data(REFRESH, {"token": second_session})
    everything = await users.data(
        LOGOUT, {"token": still["refreshToken"]["refreshToken"], "all": True}
    )
    assert everything["logout"]["revokedSessions"] >= 1
    again = await users.execute(REFRESH, {"token": still["refreshToken"]["refreshToken"]})
    assert error_codes(again) == ["UNAUTHENTICATED"]


async def test_unknown_refresh_token_is_refused(users: GraphQLClient) -> None:
    body = await users.execute(REFRESH, {"token": "made-up-token"})
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_me_without_a_token_asks_to_sign_in(users: GraphQLClient) -> None:
    body = await users.execute(ME)
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert "Sign in" in body["errors"][0]["message"]


async def test_change_password_signs_out_everywhere(users: GraphQLClient, learner: Account) -> None:
    mutation = """
    mutation($input: ChangePasswordInput!) { changePassword(input: $input) { success } }
    """
    wrong = await users.execute(
        mutation,
        {"input": {"currentPassword": "nope-nope-nope", "newPassword": "another-good-phrase"}},
        token=learner.access_token,
    )
    assert error_codes(wrong) == ["BAD_USER_INPUT"]
    done = await users.data(
        mutation,
        {"input": {"currentPassword": PASSWORD, "newPassword": "another-good-phrase"}},
        token=learner.access_token,
    )
    assert done["changePassword"]["success"] is True
    assert error_codes(await login(users, learner.email)) == ["UNAUTHENTICATED"]
    assert "errors" not in await login(users, learner.email, "another-good-phrase")
    assert error_codes(await users.execute(REFRESH, {"token": learner.refresh_token})) == [
        "UNAUTHENTICATED"
    ]
