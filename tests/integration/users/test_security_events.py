"""The security audit log as administrators read it, through the router.

Each test follows accounts of its own and reads the log filtered by them (other tests write
to the same log at the same time); client addresses are played with X-Forwarded-For.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from common.settings import Settings
from tests.accounts import PASSWORD, REGISTER, Account, account_of, account_with_roles
from tests.integration.users.second_factor import (
    CONFIRM,
    DISABLE,
    LOGIN,
    REGENERATE,
    START,
    Authenticator,
    fresh_address,
    post,
    verify,
)
from tests.support import GraphQLClient, error_codes

EVENTS = """
query($first: Int, $after: String, $filter: SecurityEventFilterInput) {
  securityEvents(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges {
      cursor
      node {
        id occurredAt kind actorId subjectId clientAddress details
        actor { id } subject { id }
      }
    }
  }
}
"""
CHANGE_PASSWORD = """
mutation($input: ChangePasswordInput!) { changePassword(input: $input) { success } }
"""
SET_ROLES = """
mutation($input: SetUserRolesInput!) { setUserRoles(input: $input) { user { id } } }
"""
DELETE = "mutation($input: DeleteUserInput!) { deleteUser(input: $input) { deletedUserId } }"
LOGOUT_ALL = """
mutation($token: String!) { logout(input: {refreshToken: $token, allSessions: true}) { revokedSessions } }
"""
REFRESH = """
mutation($token: String!) { refreshToken(input: {refreshToken: $token}) { refreshToken } }
"""
NEW_PASSWORD = "a-brand-new-passphrase"


async def _events(users: GraphQLClient, admin: Account, **filter_: Any) -> list[dict[str, Any]]:
    """Every event matching the filter, newest first, read 100 at a time."""
    events: list[dict[str, Any]] = []
    after = None
    while True:
        page = (
            await users.data(
                EVENTS,
                {"first": 100, "after": after, "filter": filter_},
                token=admin.access_token,
            )
        )["securityEvents"]
        events += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return events
        after = page["pageInfo"]["endCursor"]


async def _register_from(users: GraphQLClient, address: str) -> Account:
    email = f"audited-{uuid.uuid4().hex[:12]}@example.org"
    body = await post(
        users,
        REGISTER,
        {"input": {"email": email, "password": PASSWORD, "name": "Audited Person"}},
        address=address,
    )
    return account_of(body["data"]["register"])


async def test_every_security_action_is_recorded_with_who_whom_and_where(
    users: GraphQLClient, admin: Account
) -> None:
    address = fresh_address()
    person = await _register_from(users, address)
    secrets_seen = [PASSWORD, NEW_PASSWORD, person.email, person.access_token, person.refresh_token]
    credentials = {"email": person.email, "password": PASSWORD}

    wrong = await post(
        users, LOGIN, {"input": {**credentials, "password": "wrong-password!"}}, address=address
    )
    assert error_codes(wrong) == ["UNAUTHENTICATED"]
    token = person.access_token
    started = (await post(users, START, token=token, address=address))["data"]
    app = Authenticator(started["startMfaEnrollment"]["secret"])
    confirmed = await post(users, CONFIRM, {"code": app.code()}, token=token, address=address)
    recovery = confirmed["data"]["confirmMfaEnrollment"]["recoveryCodes"]
    challenged = await post(users, LOGIN, {"input": credentials}, address=address)
    mfa_token = challenged["errors"][0]["extensions"]["mfaToken"]
    assert error_codes(await verify(users, mfa_token, code=app.wrong_code(), address=address)) == [
        "UNAUTHENTICATED"
    ]
    signed_in = await verify(users, mfa_token, recovery_code=recovery[0], address=address)
    session = signed_in["data"]["verifyMfa"]
    regenerated = await post(users, REGENERATE, {"code": app.code()}, token=token, address=address)
    recovery += regenerated["data"]["regenerateRecoveryCodes"]["recoveryCodes"]
    disabled = await post(
        users, DISABLE, {"input": {"password": PASSWORD}}, token=token, address=address
    )
    assert "errors" not in disabled
    changed = await post(
        users,
        CHANGE_PASSWORD,
        {"input": {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}},
        token=token,
        address=address,
    )
    assert "errors" not in changed
    again = await post(
        users, LOGIN, {"input": {**credentials, "password": NEW_PASSWORD}}, address=address
    )
    latest = again["data"]["login"]
    logged_out = await post(users, LOGOUT_ALL, {"token": latest["refreshToken"]}, address=address)
    assert logged_out["data"]["logout"]["revokedSessions"] >= 1
    admin_address = fresh_address()
    await post(
        users,
        SET_ROLES,
        {"input": {"userId": person.id, "roles": ["STUDENT", "INSTRUCTOR"]}},
        token=admin.access_token,
        address=admin_address,
    )
    secrets_seen += [
        app.secret,
        mfa_token,
        session["accessToken"],
        session["refreshToken"],
        latest["accessToken"],
        latest["refreshToken"],
        *recovery,
        *(code.replace("-", "") for code in recovery),
    ]

    events = await _events(users, admin, userId=person.id)
    expected = [
        (
            "ROLES_CHANGED",
            admin.id,
            admin_address,
            {"old_roles": ["STUDENT"], "new_roles": ["INSTRUCTOR", "STUDENT"]},
        ),
        ("LOGOUT_ALL", person.id, address, None),
        ("SIGN_IN_SUCCEEDED", person.id, address, {"method": "password"}),
        ("PASSWORD_CHANGED", person.id, address, None),
        ("MFA_DISABLED", person.id, address, {"method": "password"}),
        ("RECOVERY_CODES_REGENERATED", person.id, address, {"remaining": 10}),
        ("SIGN_IN_SUCCEEDED", person.id, address, {"method": "password+recovery_code"}),
        ("RECOVERY_CODE_USED", person.id, address, {"remaining": 9}),
        ("MFA_CHALLENGE_FAILED", None, address, {"operation": "sign_in", "reason": "wrong_code"}),
        ("MFA_CHALLENGE_ISSUED", None, address, {"method": "password"}),
        ("MFA_ENABLED", person.id, address, {"method": "totp"}),
        ("MFA_ENROLLMENT_STARTED", person.id, address, {"replaced_pending": False}),
        ("SIGN_IN_FAILED", None, address, {"reason": "wrong_password"}),
        ("USER_REGISTERED", person.id, address, {"method": "password"}),
    ]
    assert [event["kind"] for event in events] == [kind for kind, *_ in expected]
    for event, (kind, actor, where, details) in zip(events, expected, strict=True):
        assert event["subjectId"] == person.id, kind
        assert event["subject"] == {"id": person.id}
        assert event["actorId"] == actor, kind
        assert event["actor"] == (None if actor is None else {"id": actor})
        assert event["clientAddress"] == where, kind
        if details is not None:
            assert event["details"] == details, kind
    occurred = [event["occurredAt"] for event in events]
    assert occurred == sorted(occurred, reverse=True)

    logged = json.dumps(events)
    leaked = [secret for secret in secrets_seen if secret in logged]
    assert leaked == []
    every_detail = json.dumps([event["details"] for event in events])
    assert not [code for code in app.shown if code in every_detail]


async def test_a_deleted_users_events_stay_by_id_without_addresses(
    users: GraphQLClient, admin: Account
) -> None:
    address = fresh_address()
    person = await _register_from(users, address)
    await post(
        users, LOGIN, {"input": {"email": person.email, "password": PASSWORD}}, address=address
    )
    admin_address = fresh_address()
    deleted = await post(
        users,
        DELETE,
        {"input": {"userId": person.id}},
        token=admin.access_token,
        address=admin_address,
    )
    assert deleted["data"]["deleteUser"]["deletedUserId"] == person.id

    events = await _events(users, admin, userId=person.id)
    assert [event["kind"] for event in events] == [
        "USER_DELETED",
        "SIGN_IN_SUCCEEDED",
        "USER_REGISTERED",
    ]
    assert events[0]["actorId"] == admin.id
    assert events[0]["actor"] == {"id": admin.id}
    assert all(event["subjectId"] == person.id for event in events)
    assert all(event["subject"] is None for event in events)  # the account is gone
    assert [event["clientAddress"] for event in events] == [admin_address, None, None]
    assert person.email not in json.dumps(events)


async def test_self_deletion_keeps_no_address_at_all(users: GraphQLClient, admin: Account) -> None:
    address = fresh_address()
    person = await _register_from(users, address)
    await post(users, DELETE, {"input": {}}, token=person.access_token, address=address)
    events = await _events(users, admin, userId=person.id)
    assert [(event["kind"], event["actorId"], event["clientAddress"]) for event in events] == [
        ("USER_DELETED", person.id, None),
        ("USER_REGISTERED", person.id, None),
    ]


async def test_failed_sign_ins_of_unknown_and_locked_accounts_are_recorded(
    users: GraphQLClient, admin: Account
) -> None:
    since = datetime.now(UTC).isoformat()
    address = fresh_address()
    ghost = f"nobody-{uuid.uuid4().hex[:8]}@example.org"
    for _ in range(5):
        await post(
            users, LOGIN, {"input": {"email": ghost, "password": "guess-guess"}}, address=address
        )
    locked = await post(
        users, LOGIN, {"input": {"email": ghost, "password": "guess-guess"}}, address=address
    )
    assert error_codes(locked) == ["RATE_LIMITED"]
    person = await _register_from(users, fresh_address())
    for _ in range(5):
        await post(
            users,
            LOGIN,
            {"input": {"email": person.email, "password": "wrong-wrong"}},
            address=address,
        )
    for _ in range(3):  # hammering while locked out adds no rows: it counts in one
        refused = await post(
            users, LOGIN, {"input": {"email": person.email, "password": PASSWORD}}, address=address
        )
        assert error_codes(refused) == ["RATE_LIMITED"]

    failures = [
        event
        for event in await _events(users, admin, kinds=["SIGN_IN_FAILED"], since=since)
        if event["clientAddress"] == address
    ]
    assert [(event["subjectId"], event["details"]["reason"]) for event in failures] == [
        (person.id, "rate_limited"),
        *[(person.id, "wrong_password")] * 5,
        (None, "rate_limited"),
        *[(None, "unknown_account")] * 5,
    ]
    assert all(event["actorId"] is None for event in failures)
    assert failures[0]["details"]["count"] == 3
    assert ghost not in json.dumps(failures)


async def test_reusing_a_refresh_token_is_recorded(users: GraphQLClient, admin: Account) -> None:
    person = await _register_from(users, fresh_address())
    await users.data(REFRESH, {"token": person.refresh_token})
    assert error_codes(await users.execute(REFRESH, {"token": person.refresh_token})) == [
        "UNAUTHENTICATED"
    ]
    events = await _events(users, admin, userId=person.id, kinds=["REFRESH_TOKEN_REUSED"])
    assert len(events) == 1
    assert events[0]["details"] == {"revoked_sessions": 2}  # the reused token and its successor
    assert events[0]["actorId"] is None


async def test_a_refused_change_records_nothing(users: GraphQLClient, admin: Account) -> None:
    refused = await users.execute(
        SET_ROLES, {"input": {"userId": admin.id, "roles": ["STUDENT"]}}, token=admin.access_token
    )
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert await _events(users, admin, userId=admin.id, kinds=["ROLES_CHANGED"]) == []


async def test_filters_and_pages_newest_first(users: GraphQLClient, admin: Account) -> None:
    address = fresh_address()
    person = await _register_from(users, address)
    for _ in range(3):
        for password in (PASSWORD, "wrong-wrong"):
            credentials = {"email": person.email, "password": password}
            await post(users, LOGIN, {"input": credentials}, address=address)
    everything = await _events(users, admin, userId=person.id)
    assert len(everything) == 7

    seen: list[str] = []
    after = None
    for _ in range(10):
        variables = {"first": 2, "after": after, "filter": {"userId": person.id}}
        page = (await users.data(EVENTS, variables, token=admin.access_token))["securityEvents"]
        assert page["totalCount"] == 7
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [edge["node"]["id"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert seen == [event["id"] for event in everything]

    successes = await _events(users, admin, userId=person.id, kinds=["SIGN_IN_SUCCEEDED"])
    assert len(successes) == 3
    both = await _events(
        users, admin, userId=person.id, kinds=["SIGN_IN_SUCCEEDED", "USER_REGISTERED"]
    )
    assert len(both) == 4
    middle = everything[3]["occurredAt"]
    newer = await _events(users, admin, userId=person.id, since=middle)
    older = await _events(users, admin, userId=person.id, until=middle)
    assert [event["id"] for event in newer + older] == [event["id"] for event in everything]
    assert len(newer) == 4


async def test_only_administrators_read_the_log(
    users: GraphQLClient, learner: Account, migrated: Settings
) -> None:
    assert error_codes(await users.execute(EVENTS)) == ["UNAUTHENTICATED"]
    forbidden = await users.execute(EVENTS, token=learner.access_token)
    assert error_codes(forbidden) == ["FORBIDDEN"]
    assert forbidden["data"] is None
    instructor = await account_with_roles(users, migrated, ["INSTRUCTOR", "STUDENT"], "Teacher")
    assert error_codes(await users.execute(EVENTS, token=instructor.access_token)) == ["FORBIDDEN"]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"filter": {"kinds": []}}, "kinds"),
        ({"filter": {"userId": "not-a-uuid"}}, "userId"),
        (
            {"filter": {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}},
            "until",
        ),
        ({"after": "not-a-cursor"}, "after"),
        ({"first": 101}, "first"),
    ],
)
async def test_bad_filters_are_explained(
    users: GraphQLClient, admin: Account, variables: dict[str, Any], field: str
) -> None:
    body = await users.execute(EVENTS, variables, token=admin.access_token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == field


async def test_an_unknown_kind_is_refused_before_running(
    users: GraphQLClient, admin: Account
) -> None:
    body = await users.execute(
        EVENTS, {"filter": {"kinds": ["PASSWORD_REVEALED"]}}, token=admin.access_token
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
