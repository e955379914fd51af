"""@skip/@include with variables: a fetch only excluded fields need is not sent at all."""

from typing import Any

import httpx

from tests.integration.router.subgraphs import Subgraph

WITH_REVIEWS = """query($withReviews: Boolean!) {
  products { name reviews @include(if: $withReviews) { body } }
}"""
ALL_REVIEWS = {
    "data": {
        "products": [
            {"name": "Chair", "reviews": [{"body": "Comfy"}, {"body": "Wobbly"}]},
            {"name": "Table", "reviews": [{"body": "Solid"}]},
        ]
    }
}
NAMES_ONLY = {"data": {"products": [{"name": "Chair"}, {"name": "Table"}]}}


async def _post(router: httpx.AsyncClient, query: str, **variables: Any) -> httpx.Response:
    return await router.post("/graphql", json={"query": query, "variables": variables})


async def test_an_excluded_field_sends_no_request_to_its_subgraph(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    response = await _post(router, WITH_REVIEWS, withReviews=False)
    assert response.json() == NAMES_ONLY
    assert subgraphs["reviews"].requests == []
    # the same operation (one cached plan) with the field included fetches it
    response = await _post(router, WITH_REVIEWS, withReviews=True)
    assert response.json() == ALL_REVIEWS
    assert len(subgraphs["reviews"].requests) == 1
    response = await _post(router, WITH_REVIEWS, withReviews=False)
    assert response.json() == NAMES_ONLY
    assert len(subgraphs["reviews"].requests) == 1
    assert len(subgraphs["products"].requests) == 3


async def test_an_excluded_field_of_a_subgraph_that_is_down_gives_no_error(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["reviews"].down = True
    assert (await _post(router, WITH_REVIEWS, withReviews=False)).json() == NAMES_ONLY
    included = (await _post(router, WITH_REVIEWS, withReviews=True)).json()
    # reviews is [Review!]!: with its subgraph down each product is nulled, and products
    # ([Product!]!) with them; a coded error on each product's reviews says why
    assert included["data"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in included["errors"]] == [
        (["products", 0, "reviews"], "SUBREQUEST_HTTP_ERROR"),
        (["products", 1, "reviews"], "SUBREQUEST_HTTP_ERROR"),
    ]


async def test_skip_fragments_and_defaults_decide_per_request(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    query = """query($brief: Boolean = true) {
      products { name ... @skip(if: $brief) { reviews { body } } }
    }"""
    assert (await router.post("/graphql", json={"query": query})).json() == NAMES_ONLY
    assert (await _post(router, query, brief=True)).json() == NAMES_ONLY
    assert subgraphs["reviews"].requests == []
    assert (await _post(router, query, brief=False)).json() == ALL_REVIEWS
    assert len(subgraphs["reviews"].requests) == 1


async def test_a_literal_exclusion_is_never_planned(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    query = "{ products { name reviews @include(if: false) { body } } }"
    assert (await _post(router, query)).json() == NAMES_ONLY
    query = "{ products { name reviews @skip(if: false) { body } } }"
    assert (await _post(router, query)).json() == ALL_REVIEWS
    assert len(subgraphs["reviews"].requests) == 1


async def test_a_condition_that_is_not_a_boolean_is_refused_before_any_fetch(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    for variables in ({"withReviews": "yes"}, {}, {"withReviews": None}):
        response = await router.post(
            "/graphql", json={"query": WITH_REVIEWS, "variables": variables}
        )
        assert 400 <= response.status_code < 500, variables
        body = response.json()
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert subgraphs["products"].requests == []
    assert subgraphs["reviews"].requests == []
