"""A subgraph fetch that fails as a whole: its error sits on each path the fetch would have
filled (the root fields, or each entity's fields), so a client knows what is missing."""

from typing import Any

import httpx

from router.execution.failures import MAX_PATHS_PER_FETCH
from tests.integration.router.subgraphs import Subgraph

Path = list[str | int]


async def _query(router: httpx.AsyncClient, query: str) -> dict[str, Any]:
    response = await router.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _failures(body: dict[str, Any], service: str) -> list[Path]:
    """The paths of the errors, each of them the coded failure of `service`."""
    for error in body["errors"]:
        assert error["extensions"] == {"code": "SUBREQUEST_HTTP_ERROR", "serviceName": service}
        assert error["message"] == f"subgraph {service!r} answered HTTP 503 without JSON"
    return [error.get("path") for error in body["errors"]]


async def test_a_failed_root_fetch_names_each_root_field_it_resolves(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["products"].down = True
    body = await _query(router, '{ a: product(id: "p1") { name } b: product(id: "p2") { id } }')
    assert body["data"] == {"a": None, "b": None}
    assert _failures(body, "products") == [["a"], ["b"]]


async def test_a_failed_entity_fetch_names_the_field_of_each_item_it_would_complete(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["users"].down = True
    body = await _query(router, "{ products { name reviews { body author { email } } } }")
    assert body["data"] == {
        "products": [
            {
                "name": "Chair",
                "reviews": [
                    {"body": "Comfy", "author": {"email": None}},
                    {"body": "Wobbly", "author": {"email": None}},
                ],
            },
            {"name": "Table", "reviews": [{"body": "Solid", "author": {"email": None}}]},
        ]
    }
    # u1 wrote two of the reviews: one representation, both places named
    assert _failures(body, "users") == [
        ["products", 0, "reviews", 0, "author", "email"],
        ["products", 1, "reviews", 0, "author", "email"],
        ["products", 0, "reviews", 1, "author", "email"],
    ]


async def test_a_failed_fetch_names_at_most_its_bound_of_paths_then_where_they_sit(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    per_product = 60  # two products: 120 authors, more than the bound

    def many_reviews(rep: dict[str, Any]) -> dict[str, Any]:
        reviews = [
            {"id": f"{rep['id']}-{i}", "body": "Fine", "author": {"id": f"{rep['id']}-u{i}"}}
            for i in range(per_product)
        ]
        return {"id": rep["id"], "reviews": reviews}

    subgraphs["reviews"].references["Product"] = many_reviews
    subgraphs["users"].down = True
    body = await _query(router, "{ products { reviews { author { email } } } }")
    emails = [
        review["author"]["email"]
        for product in body["data"]["products"]
        for review in product["reviews"]
    ]
    assert emails == [None] * (2 * per_product)
    paths = _failures(body, "users")
    assert len(paths) == MAX_PATHS_PER_FETCH + 1 < 2 * per_product
    assert paths[:2] == [
        ["products", 0, "reviews", 0, "author", "email"],
        ["products", 0, "reviews", 1, "author", "email"],
    ]
    assert all(p[2:] == ["reviews", p[3], "author", "email"] for p in paths[:-1])
    assert len({str(p) for p in paths}) == len(paths)
    assert paths[-1] == ["products"]  # where every author of the failed fetch sits


async def test_fetches_below_a_failed_one_are_skipped_without_errors_of_their_own(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["reviews"].down = True
    body = await _query(router, '{ product(id: "p1") { name reviews { author { email } } } }')
    # reviews is [Review!]!: the product is nulled, as before paths were named
    assert body["data"] == {"product": None}
    assert _failures(body, "reviews") == [["product", "reviews"]]
    assert subgraphs["users"].requests == []


async def test_a_failed_mutation_names_its_field(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["products"].down = True
    body = await _query(router, 'mutation { made: createProduct(name: "Lamp") { id } }')
    assert body["data"] is None  # createProduct is non-null
    assert _failures(body, "products") == [["made"]]


async def test_a_mutation_whose_entity_fetch_fails_names_that_field(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["reviews"].down = True
    body = await _query(router, 'mutation { createProduct(name: "Lamp") { name reviews { id } } }')
    assert body["data"] is None  # the write happened; its reviews ([Review!]!) could not come
    assert _failures(body, "reviews") == [["createProduct", "reviews"]]
    assert len(subgraphs["products"].requests) == 1


async def test_a_failed_fetch_names_no_field_the_client_skipped(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["users"].down = True
    query = """query($more: Boolean!) {
      product(id: "p2") { reviews { author { email name @include(if: $more) } } }
    }"""
    response = await router.post("/graphql", json={"query": query, "variables": {"more": False}})
    body = response.json()
    assert body["data"] == {"product": {"reviews": [{"author": {"email": None}}]}}
    assert _failures(body, "users") == [["product", "reviews", 0, "author", "email"]]
