"""Two @requires fields needing one field with different arguments: shipping's
Product.cost requires price(discount: 5) and Product.label requires price (discount 0). A
representation carries one `price`, so each field must get its own, in its own fetch."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from router.server import create_app
from router.transport import HttpTransport
from tests.integration.router.subgraphs import Subgraph, subgraphs_client
from tests.unit.router.planning.test_requires import PRICED_TYPES
from tests.unit.router.supergraphs import local_graphs, supergraph

SUPERGRAPH = supergraph(local_graphs("products", "shipping"), PRICED_TYPES)
LIST_PRICES = {"p1": 100, "p2": 40}
# what shipping computes from the price it is sent: p1's cost needs 95, its label 100
RIGHT = [
    {"id": "p1", "cost": 950, "label": "en:100"},
    {"id": "p2", "cost": 350, "label": "en:40"},
]


def _product(id_: str) -> dict[str, Any]:
    return {"id": id_, "price": lambda discount: LIST_PRICES[id_] - discount}


def _shipping(rep: dict[str, Any]) -> dict[str, Any]:
    price = rep["price"]
    return {"id": rep["id"], "cost": price * 10, "label": lambda lang: f"{lang}:{price}"}


@pytest.fixture
def subgraphs() -> dict[str, Subgraph]:
    products = Subgraph(
        "type Query { products: [Product] }\n"
        "type Product { id: ID! price(discount: Int = 0): Int! }",
        root={"products": lambda: [_product("p1"), _product("p2")]},
        references={"Product": lambda rep: _product(rep["id"])},
    )
    shipping = Subgraph(
        "type Query { carriers: Int }\n"
        "type Product { id: ID! price(discount: Int = 0): Int! cost: Int\n"
        '  label(lang: String = "en"): String }',
        references={"Product": _shipping},
    )
    return {"products": products, "shipping": shipping}


@pytest.fixture
async def router(subgraphs: dict[str, Subgraph]) -> AsyncIterator[httpx.AsyncClient]:
    transport = HttpTransport(local_graphs(*subgraphs), client=subgraphs_client(subgraphs))
    app = create_app(SUPERGRAPH, transport=transport)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://router"
    ) as client:
        yield client
    await transport.aclose()


async def _post(
    router: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    return await router.post("/graphql", json={"query": query, "variables": variables or {}})


def _prices_sent(subgraph: Subgraph, field: str) -> list[list[int]]:
    return [
        [rep["price"] for rep in request["variables"]["representations"]]
        for request in subgraph.requests
        if field in request["query"]
    ]


@pytest.mark.parametrize(
    "query", ["{ products { id cost label } }", "{ products { id label cost } }"]
)
async def test_each_field_is_computed_from_its_own_price(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph], query: str
) -> None:
    response = await _post(router, query)
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    assert [{k: p[k] for k in ("id", "cost", "label")} for p in body["data"]["products"]] == RIGHT
    assert _prices_sent(subgraphs["shipping"], "cost") == [[95, 35]]
    assert _prices_sent(subgraphs["shipping"], "label") == [[100, 40]]


async def test_the_clients_own_prices_beside_both_fields(router: httpx.AsyncClient) -> None:
    query = "{ products { id price p5: price(discount: 5) label cost price2: price(discount: 2) } }"
    body = (await _post(router, query)).json()
    assert "errors" not in body
    assert body["data"]["products"] == [
        {**RIGHT[0], "price": 100, "p5": 95, "price2": 98},
        {**RIGHT[1], "price": 40, "p5": 35, "price2": 38},
    ]


async def test_a_skipped_field_leaves_the_other_right(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    query = "query ($s: Boolean!) { products { id cost label @skip(if: $s) } }"
    skipped = (await _post(router, query, {"s": True})).json()
    assert skipped == {"data": {"products": [{"id": "p1", "cost": 950}, {"id": "p2", "cost": 350}]}}
    assert all("label" not in r["query"] for r in subgraphs["shipping"].requests)
    asked = (await _post(router, query, {"s": False})).json()
    assert asked == {"data": {"products": RIGHT}}
    literal = (await _post(router, "{ products { id label cost @skip(if: true) } }")).json()
    assert literal == {
        "data": {"products": [{"id": "p1", "label": "en:100"}, {"id": "p2", "label": "en:40"}]}
    }


async def test_a_condition_of_the_wrong_type_is_refused_before_any_fetch(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    query = "query ($s: Boolean!) { products { cost label @skip(if: $s) } }"
    for variables in ({"s": "yes"}, {"s": 5}, {}):
        response = await _post(router, query, variables)
        assert 400 <= response.status_code < 500, variables
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_USER_INPUT"]
    assert subgraphs["products"].requests == subgraphs["shipping"].requests == []


async def test_the_requiring_subgraph_down_nulls_both_fields_only(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["shipping"].down = True
    response = await _post(router, "{ products { id cost label } }")
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {
        "products": [{"id": i, "cost": None, "label": None} for i in ("p1", "p2")]
    }
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes == {"SUBREQUEST_HTTP_ERROR"}


async def test_the_price_owner_down_asks_nothing_of_shipping(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["products"].down = True
    response = await _post(router, "{ products { cost label } }")
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"products": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["SUBREQUEST_HTTP_ERROR"]
    assert subgraphs["shipping"].requests == []
