"""Fields that need only an entity's key, from the subgraph at the end of a `@requires` chain,
are fetched with the `@requires` field (one request to that subgraph, not two); when the
required field's owner answers null, fails or is down, they are still answered (asked again
with the key alone for the entities the chain did not complete)."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from router.server import create_app
from router.transport import HttpTransport
from tests.integration.router.subgraphs import Subgraph, subgraphs_client
from tests.unit.router.planning.test_requires import CHAIN_TYPES
from tests.unit.router.supergraphs import local_graphs, supergraph

SUPERGRAPH = supergraph(local_graphs("products", "inventory", "shipping"), CHAIN_TYPES)
WEIGHTS = {"p1": 3}  # p2 is unknown to the inventory: its entity comes back null
NAMES = {"p1": "Chair", "p2": "Table"}


def _shipping(rep: dict[str, Any]) -> dict[str, Any]:
    weight = rep.get("weight")
    cost = None if weight is None else weight * 10
    return {"id": rep["id"], "name": NAMES[rep["id"]], "shippingCost": cost}


@pytest.fixture
def subgraphs() -> dict[str, Subgraph]:
    products = Subgraph(
        "type Query { products: [Product!]! }\ntype Product { id: ID! }",
        root={"products": lambda: [{"id": "p1"}, {"id": "p2"}]},
        references={"Product": lambda rep: {"id": rep["id"]}},
    )
    inventory = Subgraph(
        "type Query { stock: Int }\ntype Product { id: ID! weight: Int }",
        references={
            "Product": lambda rep: (
                {"id": rep["id"], "weight": WEIGHTS[rep["id"]]} if rep["id"] in WEIGHTS else None
            )
        },
    )
    shipping = Subgraph(
        "type Query { carriers: Int }\n"
        "type Product { id: ID! weight: Int name: String! shippingCost: Int }",
        references={"Product": _shipping},
    )
    return {"products": products, "inventory": inventory, "shipping": shipping}


@pytest.fixture
async def router(subgraphs: dict[str, Subgraph]) -> AsyncIterator[httpx.AsyncClient]:
    transport = HttpTransport(local_graphs(*subgraphs), client=subgraphs_client(subgraphs))
    app = create_app(SUPERGRAPH, transport=transport)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://router"
    ) as client:
        yield client
    await transport.aclose()


async def _post(router: httpx.AsyncClient, query: str) -> dict[str, Any]:
    body: dict[str, Any] = (await router.post("/graphql", json={"query": query})).json()
    return body


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("{ products { name shippingCost } }", {"name": "Chair", "shippingCost": 30}),
        ("{ products { shippingCost name } }", {"shippingCost": 30, "name": "Chair"}),
    ],
)
async def test_a_key_only_field_survives_a_null_prerequisite(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph], query: str, first: dict[str, Any]
) -> None:
    body = await _post(router, query)
    # p2 has no weight (the inventory answers null for it): its name is still answered
    assert body["data"] == {"products": [first, {"name": "Table", "shippingCost": None}]}
    assert "errors" not in body
    # p1's name came with its shipping cost; p2's, which has no weight, with its key alone
    asked = [
        (r["variables"]["representations"], "shippingCost" in r["query"])
        for r in subgraphs["shipping"].requests
        if "name" in r["query"]
    ]
    assert asked == [
        ([{"__typename": "Product", "id": "p1", "weight": 3}], True),
        ([{"__typename": "Product", "id": "p2"}], False),
    ]


async def test_a_key_only_field_comes_with_the_requires_field_in_one_request(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    weights = {"p1": 3, "p2": 4}
    subgraphs["inventory"].references["Product"] = lambda rep: {
        "id": rep["id"],
        "weight": weights[rep["id"]],
    }
    body = await _post(router, "{ products { name shippingCost } }")
    assert body == {
        "data": {
            "products": [
                {"name": "Chair", "shippingCost": 30},
                {"name": "Table", "shippingCost": 40},
            ]
        }
    }
    [request] = subgraphs["shipping"].requests
    assert request["variables"]["representations"] == [
        {"__typename": "Product", "id": "p1", "weight": 3},
        {"__typename": "Product", "id": "p2", "weight": 4},
    ]


async def test_a_key_only_field_survives_the_prerequisite_subgraph_being_down(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["inventory"].down = True
    body = await _post(router, "{ products { id name shippingCost } }")
    assert body["data"] == {
        "products": [
            {"id": "p1", "name": "Chair", "shippingCost": None},
            {"id": "p2", "name": "Table", "shippingCost": None},
        ]
    }
    # the failed fetch only had `weight` (shippingCost's input, not asked) to add to each
    assert [(e.get("path"), e["extensions"]["code"]) for e in body["errors"]] == [
        (["products", 0], "SUBREQUEST_HTTP_ERROR"),
        (["products", 1], "SUBREQUEST_HTTP_ERROR"),
    ]
    assert all("shippingCost" not in r["query"] for r in subgraphs["shipping"].requests)


async def test_a_prerequisite_error_is_reported_once_and_the_sibling_still_answered(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    def failing(rep: dict[str, Any]) -> Any:
        if rep["id"] == "p1":
            return {"id": "p1", "weight": ValueError("scale offline")}
        return {"id": rep["id"], "weight": 5}

    subgraphs["inventory"].references["Product"] = failing
    body = await _post(router, "{ products { name shippingCost } }")
    assert body["data"] == {
        "products": [{"name": "Chair", "shippingCost": None}, {"name": "Table", "shippingCost": 50}]
    }
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["products", 0, "weight"], "SUBGRAPH_ERROR")
    ]
