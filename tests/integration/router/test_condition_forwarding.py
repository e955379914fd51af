"""A conditional selection fetched together with unconditional ones: the subgraph gets the
client's condition with it, so an excluded part neither runs nor reports errors."""

from typing import Any

import httpx
import pytest

from tests.integration.router.conftest import REVIEWS, make_subgraphs
from tests.integration.router.subgraphs import Subgraph

QUERY = """query($v: Boolean!) {
  products @include(if: $v) { reviews { id body } } products { reviews { id } }
}"""
IDS_ONLY = {
    "data": {"products": [{"reviews": [{"id": "r1"}, {"id": "r2"}]}, {"reviews": [{"id": "r3"}]}]}
}


@pytest.fixture
def subgraphs() -> dict[str, Subgraph]:
    """r2's body fails in the reviews subgraph."""
    made = make_subgraphs()
    failing = {
        product: [
            {**r, "body": ValueError("body failed")} if r["id"] == "r2" else r for r in reviews
        ]
        for product, reviews in REVIEWS.items()
    }
    made["reviews"].references["Product"] = lambda rep: {
        "id": rep["id"],
        "reviews": failing[rep["id"]],
    }
    return made


async def _post(router: httpx.AsyncClient, **variables: Any) -> dict[str, Any]:
    response = await router.post("/graphql", json={"query": QUERY, "variables": variables})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_an_excluded_selection_in_a_shared_fetch_is_skipped_by_the_subgraph(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    assert await _post(router, v=False) == IDS_ONLY
    [request] = subgraphs["reviews"].requests
    assert "body @include(if: $v)" in request["query"]
    assert request["variables"]["v"] is False


async def test_an_included_selection_in_a_shared_fetch_is_fetched_with_its_errors(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    body = await _post(router, v=True)
    # body is String! in [Review!]! in [Product!]!: r2's error nulls everything up to data
    assert body["data"] is None
    assert [(e["message"], e["path"]) for e in body["errors"]] == [
        ("body failed", ["products", 0, "reviews", 1, "body"])
    ]
    [request] = subgraphs["reviews"].requests
    assert request["variables"]["v"] is True


async def test_a_condition_of_the_wrong_type_is_refused_before_any_fetch(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    response = await router.post("/graphql", json={"query": QUERY, "variables": {"v": "no"}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert subgraphs["products"].requests == []
    assert subgraphs["reviews"].requests == []


async def test_a_forwarded_condition_beside_the_fields_own_applies_both(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    query = """query($v: Boolean!, $w: Boolean!) {
      products @include(if: $v) { reviews { id body @include(if: $w) } }
      products { reviews { id } }
    }"""
    for v, w in ((True, False), (False, True)):
        response = await router.post(
            "/graphql", json={"query": query, "variables": {"v": v, "w": w}}
        )
        assert response.json() == IDS_ONLY
    sent = [r["query"] for r in subgraphs["reviews"].requests]
    assert len(sent) == 2
    assert all("@include(if: $v)" in q and "@include(if: $w)" in q for q in sent)
    response = await router.post(
        "/graphql", json={"query": query, "variables": {"v": True, "w": True}}
    )
    assert [e["path"] for e in response.json()["errors"]] == [["products", 0, "reviews", 1, "body"]]
