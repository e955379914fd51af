"""Least privilege between services: each trades its own client credentials at the users
subgraph (OAuth 2 client-credentials grant) for a short-lived token with narrow scopes, and
the subgraph that holds the data accepts that token for what its scopes allow and nothing
else. Calls go to the subgraphs directly, as the services make them, and to the router, as
a stolen token would."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import httpx
from joserfc import jwt

from common.auth.keys import SIGNING_ALGORITHM, platform_signing_key
from common.auth.principal import service_subject
from common.auth.tokens import TokenIssuer
from common.settings import Settings
from tests.accounts import Account
from tests.integration.courses.conftest import create_course, published_course
from tests.integration.enrollments.test_enrollments import enroll
from tests.support import GraphQLClient, error_codes

CONTACT = """
query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id name email } } }
"""
PRIVATE = """
query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id preferences { theme } } } }
"""
COURSE = """
query($r: [_Any!]!) { _entities(representations: $r) { ... on Course { id title status } } }
"""
ROSTER = """
query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Course { enrollments(first: 10) { edges { node { user { id } } } } }
  }
}
"""
LIST_USERS = "query { users(first: 5) { edges { node { id email } } } }"
SET_ROLES = """
mutation($id: ID!) { setUserRoles(input: {userId: $id, roles: [ADMIN]}) { user { id roles } } }
"""
ME = "query { me { id } }"
UPDATE_PROFILE = """
mutation($id: ID!) { updateProfile(input: {userId: $id, name: "Owned"}) { user { name } } }
"""
ENROLL = "mutation($c: ID!) { enroll(input: {courseId: $c}) { enrollment { id } } }"


def basic(client_id: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"authorization": f"Basic {encoded}"}


async def ask_token(
    http: httpx.AsyncClient,
    users_url: str,
    form: dict[str, str],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await http.post(f"{users_url}/oauth/token", data=form, headers=headers or {})


async def service_token(
    http: httpx.AsyncClient, users_url: str, settings: Settings, client: str
) -> str:
    response = await ask_token(
        http,
        users_url,
        {"grant_type": "client_credentials"},
        basic(client, settings.client_secret(client)),
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def at(http: httpx.AsyncClient, urls: dict[str, str], subgraph: str) -> GraphQLClient:
    """A subgraph called directly, as a peer service calls it."""
    return GraphQLClient(http, f"{urls[subgraph]}/graphql")


def one(name: str, id: str) -> dict[str, Any]:
    return {"r": [{"__typename": name, "id": id}]}


async def test_a_service_gets_a_token_with_its_own_scopes_only(
    http: httpx.AsyncClient, users_url: str, migrated: Settings
) -> None:
    secret = migrated.client_secret("notifications")
    by_basic = await ask_token(
        http, users_url, {"grant_type": "client_credentials"}, basic("notifications", secret)
    )
    assert by_basic.status_code == 200
    assert by_basic.headers["cache-control"] == "no-store"
    answer = by_basic.json()
    assert answer["token_type"] == "Bearer"
    assert answer["scope"] == "enrollments:rosters users:contacts"
    assert 0 < answer["expires_in"] <= 300
    claims = jwt.decode(answer["access_token"], platform_signing_key(migrated)).claims
    assert claims["client_id"] == "notifications"
    assert "roles" not in claims
    # client_secret_post, asking for one of its scopes: it gets that one
    by_form = await ask_token(
        http,
        users_url,
        {
            "grant_type": "client_credentials",
            "client_id": "enrollments",
            "client_secret": migrated.client_secret("enrollments"),
            "scope": "courses:unpublished",
        },
    )
    assert by_form.status_code == 200
    assert by_form.json()["scope"] == "courses:unpublished"


async def test_the_token_endpoint_refuses_as_rfc_6749_says(
    http: httpx.AsyncClient, users_url: str, migrated: Settings, instructor: Account
) -> None:
    grant = {"grant_type": "client_credentials"}
    own = migrated.client_secret("notifications")
    other = migrated.client_secret("enrollments")
    refusals = [
        # another service's secret, an unknown client, no credentials at all
        (grant, basic("notifications", other), 401, "invalid_client"),
        (grant, basic("reporting", own), 401, "invalid_client"),
        (grant, {}, 401, "invalid_client"),
        # a user's access token is no client credential
        (grant, {"authorization": f"Bearer {instructor.access_token}"}, 401, "invalid_client"),
        # a scope granted to another service, an administrator's scope
        (
            {**grant, "scope": "courses:unpublished"},
            basic("notifications", own),
            400,
            "invalid_scope",
        ),
        ({**grant, "scope": "admin"}, basic("notifications", own), 400, "invalid_scope"),
        ({"grant_type": "password"}, basic("notifications", own), 400, "unsupported_grant_type"),
        ({}, basic("notifications", own), 400, "invalid_request"),
        # the client authenticated twice
        ({**grant, "client_secret": own}, basic("notifications", own), 400, "invalid_request"),
    ]
    for form, headers, status, error in refusals:
        response = await ask_token(http, users_url, form, headers)
        assert (response.status_code, response.json()["error"]) == (status, error), form
        assert response.headers["cache-control"] == "no-store"
        if status == 401:
            assert response.headers["www-authenticate"].startswith("Basic")
    as_json = await http.post(
        f"{users_url}/oauth/token", json=grant, headers=basic("notifications", own)
    )
    assert (as_json.status_code, as_json.json()["error"]) == (400, "invalid_request")


async def test_a_notifications_token_is_no_administrator(
    http: httpx.AsyncClient,
    subgraph_urls: dict[str, str],
    users_url: str,
    migrated: Settings,
    graph: GraphQLClient,
    student: Account,
) -> None:
    token = await service_token(http, users_url, migrated, "notifications")
    users = at(http, subgraph_urls, "users")
    # what it is for: whom to write to
    contact = await users.data(CONTACT, one("User", student.id), token=token)
    assert contact["_entities"][0]["email"] == student.email
    # nothing else a user or an administrator may see or do
    private = await users.execute(PRIVATE, one("User", student.id), token=token)
    assert error_codes(private) == ["FORBIDDEN"]
    for client in (users, graph):  # at the subgraph, and through the router
        listing = await client.execute(LIST_USERS, token=token)
        assert error_codes(listing) == ["FORBIDDEN"], listing
        promoted = await client.execute(SET_ROLES, {"id": student.id}, token=token)
        assert error_codes(promoted) == ["FORBIDDEN"], promoted
        renamed = await client.execute(UPDATE_PROFILE, {"id": student.id}, token=token)
        assert error_codes(renamed) == ["FORBIDDEN"], renamed
    me = await users.execute(ME, token=token)
    assert error_codes(me) == ["FORBIDDEN"]
    unchanged = await users.data("query { me { name roles } }", token=student.access_token)
    assert unchanged["me"] == {"name": "Stu Student", "roles": ["STUDENT"]}


async def test_a_scope_counts_only_at_the_subgraph_it_names(
    http: httpx.AsyncClient,
    subgraph_urls: dict[str, str],
    users_url: str,
    migrated: Settings,
    instructor: Account,
    admin: Account,
    student: Account,
    graph: GraphQLClient,
) -> None:
    notifications = await service_token(http, users_url, migrated, "notifications")
    enrollments = await service_token(http, users_url, migrated, "enrollments")
    draft = await create_course(graph, instructor, "Still A Draft")
    course = await published_course(graph, instructor, admin, "Open To Services")
    await enroll(graph, student, course["id"])
    courses = at(http, subgraph_urls, "courses")
    rosters = at(http, subgraph_urls, "enrollments")
    users = at(http, subgraph_urls, "users")
    # courses:unpublished (enrollments') shows a draft; notifications' scopes do not
    seen = await courses.data(COURSE, one("Course", draft["id"]), token=enrollments)
    assert seen["_entities"] == [{"id": draft["id"], "title": "Still A Draft", "status": "DRAFT"}]
    hidden = await courses.data(COURSE, one("Course", draft["id"]), token=notifications)
    assert hidden["_entities"] == [None]
    # enrollments:rosters (notifications') shows a roster; courses:unpublished does not
    roster = await rosters.data(ROSTER, one("Course", course["id"]), token=notifications)
    edges = roster["_entities"][0]["enrollments"]["edges"]
    assert [edge["node"]["user"]["id"] for edge in edges] == [student.id]
    refused = await rosters.execute(ROSTER, one("Course", course["id"]), token=enrollments)
    assert error_codes(refused) == ["FORBIDDEN"]
    # users:contacts (notifications') shows an e-mail address; courses:unpublished does not
    no_contact = await users.execute(CONTACT, one("User", student.id), token=enrollments)
    assert error_codes(no_contact) == ["FORBIDDEN"]
    # no service scope lets a service act as a learner
    enrolled = await rosters.execute(ENROLL, {"c": course["id"]}, token=notifications)
    assert error_codes(enrolled) == ["FORBIDDEN"]


async def test_users_tokens_do_not_pass_for_service_tokens(
    http: httpx.AsyncClient,
    subgraph_urls: dict[str, str],
    instructor: Account,
    admin: Account,
    student: Account,
    graph: GraphQLClient,
) -> None:
    """A student's token at the paths a service scope opens: nothing more than a student."""
    other = await create_course(graph, instructor, "Someone Else's Draft")
    course = await published_course(graph, instructor, admin, "Roster Kept")
    users = at(http, subgraph_urls, "users")
    contact = await users.execute(CONTACT, one("User", instructor.id), token=student.access_token)
    assert error_codes(contact) == ["FORBIDDEN"]
    draft = await at(http, subgraph_urls, "courses").data(
        COURSE, one("Course", other["id"]), token=student.access_token
    )
    assert draft["_entities"] == [None]
    roster = await at(http, subgraph_urls, "enrollments").execute(
        ROSTER, one("Course", course["id"]), token=student.access_token
    )
    assert error_codes(roster) == ["FORBIDDEN"]


async def test_expired_and_forged_service_tokens_are_refused(
    http: httpx.AsyncClient, subgraph_urls: dict[str, str], migrated: Settings, student: Account
) -> None:
    key = platform_signing_key(migrated)
    issuer = TokenIssuer(
        key, issuer=migrated.jwt_issuer, audience=migrated.jwt_audience, ttl_seconds=300
    )
    users = at(http, subgraph_urls, "users")
    expired = issuer.issue_service("notifications", frozenset({"users:contacts"}), -120)
    body = await users.execute(CONTACT, one("User", student.id), token=expired)
    assert error_codes(body) == ["UNAUTHENTICATED"]
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": migrated.jwt_issuer,
        "aud": migrated.jwt_audience,
        "sub": str(service_subject("notifications")),
        "iat": now,
        "nbf": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
        "client_id": "notifications",
        "scope": "admin users:read users:write users:contacts",
    }
    header = {"alg": SIGNING_ALGORITHM, "kid": key.kid, "typ": "JWT"}
    # a service token claiming an administrator's role is no token at all
    with_role = jwt.encode(header, {**claims, "roles": ["ADMIN"]}, key)
    listing = await users.execute(LIST_USERS, token=with_role)
    assert error_codes(listing) == ["UNAUTHENTICATED"]
    # users' scopes in a service token count for nothing
    with_scopes = jwt.encode(header, claims, key)
    listing = await users.execute(LIST_USERS, token=with_scopes)
    assert error_codes(listing) == ["FORBIDDEN"]
    # a subject that is not the client's
    wrong_subject = jwt.encode(header, {**claims, "sub": student.id}, key)
    mine = await users.execute(ME, token=wrong_subject)
    assert error_codes(mine) == ["UNAUTHENTICATED"]
