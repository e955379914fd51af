"""Data from several subgraphs merged into one response, in the client's shape."""

import httpx

from tests.integration.router.subgraphs import Subgraph


async def test_entities_from_three_subgraphs_are_merged(router: httpx.AsyncClient) -> None:
    query = "{ products { name reviews { body author { name } } } }"
    response = await router.post("/graphql", json={"query": query})
    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "products": [
                {
                    "name": "Chair",
                    "reviews": [
                        {"body": "Comfy", "author": {"name": "Ada"}},
                        {"body": "Wobbly", "author": {"name": "Alan"}},
                    ],
                },
                {"name": "Table", "reviews": [{"body": "Solid", "author": {"name": "Ada"}}]},
            ]
        }
    }


async def test_fields_follow_query_order_and_aliases(router: httpx.AsyncClient) -> None:
    query = "{ products { reviews { text: body } label: name id } }"
    response = await router.post("/graphql", json={"query": query})
    first = response.json()["data"]["products"][0]
    assert list(first) == ["reviews", "label", "id"]
    assert first["label"] == "Chair"
    assert first["reviews"][0] == {"text": "Comfy"}


async def test_one_entities_call_per_fetch_with_deduplicated_representations(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    query = "{ products { reviews { author { name } } } }"
    await router.post("/graphql", json={"query": query})
    users = subgraphs["users"].requests
    assert len(users) == 1
    representations = users[0]["variables"]["representations"]
    assert representations == [
        {"__typename": "User", "id": "u1"},
        {"__typename": "User", "id": "u2"},
    ]


async def test_helper_fields_are_not_returned(router: httpx.AsyncClient) -> None:
    response = await router.post("/graphql", json={"query": "{ topProduct { reviews { id } } }"})
    assert response.json() == {"data": {"topProduct": {"reviews": [{"id": "r1"}, {"id": "r2"}]}}}


async def test_variables_are_sent_only_where_used(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    query = """query($id: ID!, $full: Boolean!) {
      product(id: $id) { name reviews @include(if: $full) { id } }
    }"""
    variables = {"id": "p2", "full": False}
    response = await router.post("/graphql", json={"query": query, "variables": variables})
    assert response.json() == {"data": {"product": {"name": "Table"}}}
    assert subgraphs["products"].requests[0]["variables"] == {"id": "p2"}


async def test_mutation_root_fields_run_in_order(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    query = """mutation {
      a: createProduct(name: "Lamp") { id name }
      b: addReview(productId: "p1", body: "Bright") { body author { name } }
      c: createProduct(name: "Desk") { name }
    }"""
    response = await router.post("/graphql", json={"query": query})
    assert response.json() == {
        "data": {
            "a": {"id": "new1", "name": "Lamp"},
            "b": {"body": "Bright", "author": {"name": "Ada"}},
            "c": {"name": "Desk"},
        }
    }
    product_calls = [r["query"] for r in subgraphs["products"].requests]
    assert len(product_calls) == 2


async def test_authorization_header_reaches_subgraphs(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    headers = {"Authorization": "Bearer token-1", "X-Other": "no"}
    await router.post(
        "/graphql", json={"query": "{ products { reviews { id } } }"}, headers=headers
    )
    for name in ("products", "reviews"):
        sent = subgraphs[name].headers[0]
        assert sent["authorization"] == "Bearer token-1"
        assert "x-other" not in sent
