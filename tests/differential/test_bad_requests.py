"""Bad requests through both gateways: the router answers as Apollo Gateway (status, code),
except where Apollo answers a request error with a 500, where the router rightly says 400."""

from typing import Any

import pytest

from tests.differential.harness import Gateways

AGREED: list[dict[str, Any]] = [
    {"query": "query Q($n: Int) { products(first: $n) { id } }", "variables": {"n": "two"}},
    {"query": "query Q($id: ID!) { product(id: $id) { id } }", "variables": {}},
    {"query": "query Q($id: ID!) { product(id: $id) { id } }", "variables": {"id": None}},
    {"query": "{ products { nope } }"},
    {"query": "{ products { internal } }"},
    {"query": "{ products { id "},
    {"query": "{ products { id } }", "variables": [1]},
    {"query": 5},
    {"variables": {}},
]

# Apollo Gateway: 500 INVALID_GRAPHQL for a document the client got wrong.
APOLLO_500: list[dict[str, Any]] = [
    {"query": "query A { __typename } query B { __typename }"},
    {"query": "query A { __typename }", "operationName": "Z"},
    {"query": "mutation { x }"},
]


def _codes(body: Any) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


@pytest.mark.parametrize("payload", AGREED, ids=str)
async def test_bad_request_answered_as_apollo(
    gateways: dict[str, Gateways], payload: dict[str, Any]
) -> None:
    on = gateways["commerce"]
    ours = await on.router.post("/graphql", json=payload)
    theirs = await on.apollo.post("/", json=payload)
    assert ours.status_code == theirs.status_code == 400
    assert _codes(ours.json()) == _codes(theirs.json())
    assert "data" not in ours.json()


@pytest.mark.parametrize("payload", APOLLO_500, ids=str)
async def test_request_error_is_400_where_apollo_says_500(
    gateways: dict[str, Gateways], payload: dict[str, Any]
) -> None:
    on = gateways["commerce"]
    ours = await on.router.post("/graphql", json=payload)
    theirs = await on.apollo.post("/", json=payload)
    assert theirs.status_code == 500
    assert ours.status_code == 400
    assert _codes(ours.json()) in (["BAD_REQUEST"], ["GRAPHQL_VALIDATION_FAILED"])
