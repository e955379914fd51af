"""A query text the users subgraph has accepted once runs on graphql-core directly from then
on (common/graphql/prepared.py): each answer must be the one Strawberry's whole path gave
the first time, headers included, and what the first request could not have vetted (the
variables, the operation asked for, the HTTP method) is still checked on every request."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.accounts import Account, register
from tests.support import GraphQLClient

PROFILE = (
    "query Profile { me { id name email preferences { theme } } }\nquery JustId { me { id } }\n"
)
RENAME = "mutation Rename($input: UpdateProfileInput!) { updateProfile(input: $input) { user { name } } }"


async def _post(
    http: httpx.AsyncClient, url: str, body: dict[str, Any], token: str | None = None
) -> tuple[int, dict[str, Any], str | None, str | None]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await http.post(url, json=body, headers=headers)
    return (
        response.status_code,
        response.json(),
        response.headers.get("cache-control"),
        response.headers.get("www-authenticate"),
    )


async def test_the_second_answer_is_the_first(
    users_url: str, http: httpx.AsyncClient, users_subgraph: GraphQLClient
) -> None:
    account: Account = await register(users_subgraph)
    url = f"{users_url}/graphql"
    marker = uuid.uuid4().hex  # a text this process has never seen: the first is Strawberry's
    profile = {"query": f"# {marker}\n{PROFILE}", "operationName": "Profile"}
    for body, token in (
        (profile, account.access_token),
        ({**profile, "operationName": "JustId"}, account.access_token),
        (profile, None),  # UNAUTHENTICATED, with its challenge
        (profile, "not-a-token"),
        ({**profile, "operationName": "Nowhere"}, account.access_token),
        ({"query": f"# {marker}\n{PROFILE}"}, account.access_token),  # which one?
    ):
        first = await _post(http, url, body, token)
        again = await _post(http, url, body, token)
        assert again == first, body
    signed_in = (await _post(http, url, profile, account.access_token))[1]
    assert signed_in["data"]["me"]["email"] == account.email
    assert (await _post(http, url, profile))[1]["errors"][0]["extensions"]["code"] == (
        "UNAUTHENTICATED"
    )


async def test_variables_and_methods_are_checked_every_time(
    users_url: str, http: httpx.AsyncClient, users_subgraph: GraphQLClient
) -> None:
    account = await register(users_subgraph)
    url = f"{users_url}/graphql"
    rename = f"# {uuid.uuid4().hex}\n{RENAME}"
    accepted = await _post(
        http, url, {"query": rename, "variables": {"input": {"name": "Ada"}}}, account.access_token
    )
    assert accepted[1] == {"data": {"updateProfile": {"user": {"name": "Ada"}}}}
    assert accepted[2] == "no-store"  # a mutation's answer is never cached
    for variables, code in (
        ({"input": {"name": "A\x00da"}}, "BAD_USER_INPUT"),  # NUL: refused before resolving
        ({"input": {"name": 42}}, "BAD_USER_INPUT"),  # wrong type
        ({}, "BAD_USER_INPUT"),  # missing
    ):
        status, body, _, _ = await _post(
            http, url, {"query": rename, "variables": variables}, account.access_token
        )
        assert (status == 200 and "data" not in body) or body["data"] is None, body
        assert [error["extensions"]["code"] for error in body["errors"]] == [code], body
    # the same accepted mutation over GET is still refused (GET runs queries only)
    refused = await http.get(
        url,
        params={"query": rename, "variables": '{"input": {"name": "Eve"}}'},
        headers={"authorization": f"Bearer {account.access_token}"},
    )
    assert refused.status_code == 400, refused.text
    me = await users_subgraph.data("{ me { name } }", token=account.access_token)
    assert me == {"me": {"name": "Ada"}}
