"""Reading and changing profiles: one's own, other people's, and hostile values."""

from __future__ import annotations

from typing import Any

import pytest

from tests.accounts import Account
from tests.support import GraphQLClient, error_codes

UPDATE = """
mutation($input: UpdateProfileInput!) {
  updateProfile(input: $input) {
    user {
      id name bio avatarUrl locale timezone
      preferences { theme marketingEmails reducedMotion }
    }
  }
}
"""
PROFILE = "query($id: ID!) { user(id: $id) { id name bio email } }"


async def _update(
    users: GraphQLClient, account: Account, changes: dict[str, Any]
) -> dict[str, Any]:
    return await users.execute(UPDATE, {"input": changes}, token=account.access_token)


async def test_update_own_profile_and_read_it_back(users: GraphQLClient, learner: Account) -> None:
    body = await _update(
        users,
        learner,
        {
            "name": "  Ada Lovelace ",
            "bio": "Analyst.",
            "avatarUrl": "https://cdn.example.org/ada.png",
            "locale": "en-GB",
            "timezone": "Europe/London",
            "preferences": {"theme": "DARK", "reducedMotion": True},
        },
    )
    assert "errors" not in body, body
    user = body["data"]["updateProfile"]["user"]
    assert user["name"] == "Ada Lovelace"
    assert user["preferences"] == {"theme": "DARK", "marketingEmails": False, "reducedMotion": True}
    again = await _update(users, learner, {"preferences": {"marketingEmails": True}, "bio": None})
    user = again["data"]["updateProfile"]["user"]
    assert user["preferences"] == {"theme": "DARK", "marketingEmails": True, "reducedMotion": True}
    assert user["bio"] is None
    assert user["timezone"] == "Europe/London"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"avatarUrl": "javascript:alert(1)"}, "avatarUrl"),
        ({"avatarUrl": "http://plain.example.org/a.png"}, "avatarUrl"),
        ({"avatarUrl": 'https://x/"><script>alert(1)</script>'}, "avatarUrl"),
        ({"avatarUrl": "https://cdn.example.org/a.png' onerror='alert(1)"}, "avatarUrl"),
        ({"avatarUrl": "https://ada:secret@cdn.example.org/a.png"}, "avatarUrl"),
        ({"avatarUrl": "https://cdn.example.org/a\x07.png"}, "avatarUrl"),
        ({"avatarUrl": "https://cdn.example.org/a\nb.png"}, "avatarUrl"),
        ({"avatarUrl": "https://cdn.example.org/" + "a" * 2048}, "avatarUrl"),
        ({"avatarUrl": "https://cdn.example.org:99999/a.png"}, "avatarUrl"),
        ({"avatarUrl": "https:///a.png"}, "avatarUrl"),
        ({"avatarUrl": "https://cdn_example<org/a.png"}, "avatarUrl"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"locale": "english please"}, "locale"),
        ({"bio": "b" * 2001}, "bio"),
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
    ],
)
async def test_bad_profile_values_are_refused_and_nothing_changes(
    users: GraphQLClient, learner: Account, changes: dict[str, Any], field: str
) -> None:
    body = await _update(users, learner, changes)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == field
    me = await users.data("{ me { name timezone avatarUrl } }", token=learner.access_token)
    assert me["me"] == {"name": "Test Learner", "timezone": "UTC", "avatarUrl": None}


async def test_an_avatar_url_is_stored_as_parsed_and_written_again(
    users: GraphQLClient, other_learner: Account
) -> None:
    body = await _update(users, other_learner, {"avatarUrl": " HTTPS://CDN.Example.org/ä.png?s=ü "})
    assert "errors" not in body, body
    avatar = body["data"]["updateProfile"]["user"]["avatarUrl"]
    assert avatar == "https://cdn.example.org/%C3%A4.png?s=%C3%BC"


async def test_changing_someone_elses_profile_is_forbidden(
    users: GraphQLClient, learner: Account, other_learner: Account
) -> None:
    body = await _update(users, learner, {"userId": other_learner.id, "name": "Hijacked"})
    assert error_codes(body) == ["FORBIDDEN"]
    seen = await users.data(
        PROFILE.replace(" email", ""), {"id": other_learner.id}, token=learner.access_token
    )
    assert seen["user"]["name"] == "Other Learner"


async def test_admin_can_change_anyones_profile(
    users: GraphQLClient, admin: Account, learner: Account
) -> None:
    body = await _update(users, admin, {"userId": learner.id, "name": "Renamed By Admin"})
    assert body["data"]["updateProfile"]["user"]["name"] == "Renamed By Admin"


async def test_other_peoples_email_is_private(
    users: GraphQLClient, learner: Account, other_learner: Account, admin: Account
) -> None:
    body = await users.execute(PROFILE, {"id": other_learner.id}, token=learner.access_token)
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["path"] == ["user", "email"]
    assert body["data"] is None  # email is non-null, so the user object nulls out
    public = await users.data(
        PROFILE.replace(" email", ""), {"id": other_learner.id}, token=learner.access_token
    )
    assert public["user"]["name"] == "Other Learner"
    as_admin = await users.data(PROFILE, {"id": other_learner.id}, token=admin.access_token)
    assert as_admin["user"]["email"] == other_learner.email


async def test_roles_cannot_be_raised_through_a_profile_update(
    users: GraphQLClient, learner: Account
) -> None:
    body = await _update(users, learner, {"roles": ["ADMIN"]})
    assert error_codes(body) == ["BAD_USER_INPUT"]
    me = await users.data("{ me { roles } }", token=learner.access_token)
    assert me["me"]["roles"] == ["STUDENT"]


@pytest.mark.parametrize(
    "hostile",
    [
        "Robert'); DROP TABLE users.users;--",
        "' OR '1'='1",
        "\\'; SELECT pg_sleep(5); --",
        "<script>alert('x')</script>",
        "名前 🎓 — ünïcödé",
    ],
)
async def test_hostile_strings_are_stored_verbatim(
    users: GraphQLClient, learner: Account, hostile: str
) -> None:
    body = await _update(users, learner, {"name": hostile, "bio": hostile})
    assert body["data"]["updateProfile"]["user"]["name"] == hostile
    me = await users.data("{ me { name bio } }", token=learner.access_token)
    assert me["me"] == {"name": hostile, "bio": hostile}


async def test_unknown_user_id_is_not_found_and_bad_id_is_bad_input(
    users: GraphQLClient, learner: Account
) -> None:
    missing = await users.execute(
        PROFILE, {"id": "00000000-0000-0000-0000-000000000000"}, token=learner.access_token
    )
    assert error_codes(missing) == ["NOT_FOUND"]
    malformed = await users.execute(PROFILE, {"id": "1 OR 1=1"}, token=learner.access_token)
    assert error_codes(malformed) == ["BAD_USER_INPUT"]
