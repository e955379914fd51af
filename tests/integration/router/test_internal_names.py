"""The router's own selections (keys, @requires inputs) never take a response name of the
client's: aliases equal to a key or required field give the client's value, and the
subgraphs get the right representations. Each answer is compared with what one server
holding the whole schema says."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import build_schema, graphql_sync

from router.composition import SubgraphInput, compose
from router.server import create_app
from router.transport import HttpTransport
from tests.integration.router.subgraphs import Subgraph, subgraphs_client
from tests.unit.router.supergraphs import local_graphs

HEADER = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3",'
    ' import: ["@key", "@external", "@requires"])\n'
)
SDLS = {
    "products": HEADER + "type Query { product(id: ID!): Product products: [Product!]! }"
    ' type Product @key(fields: "id") @key(fields: "sku")'
    ' { id: ID! sku: String! name: String! weight(unit: String = "kg"): Float }',
    "reviews": HEADER + 'type Product @key(fields: "sku") { sku: String! rating: Int }',
    "shipping": HEADER + 'type Product @key(fields: "id") { id: ID!'
    ' weight(unit: String = "kg"): Float @external'
    ' shippingCost: Float @requires(fields: "weight") }',
}
PRODUCTS: dict[str, dict[str, Any]] = {
    "p1": {"id": "p1", "sku": "SKU1", "name": "Chair", "kg": 10.0, "rating": 5},
    "p2": {"id": "p2", "sku": "SKU2", "name": "Table", "kg": 30.0, "rating": 3},
}
BY_SKU = {p["sku"]: p for p in PRODUCTS.values()}


def _weight(product: dict[str, Any]) -> Any:
    return lambda unit="kg": product["kg"] if unit == "kg" else round(product["kg"] * 2.2, 2)


def _cost(weight: float) -> float:
    return weight * 2


def _product(product_id: str) -> dict[str, Any] | None:
    found = PRODUCTS.get(product_id)
    if found is None:
        return None
    return {"id": found["id"], "sku": found["sku"], "name": found["name"], "weight": _weight(found)}


def make_subgraphs() -> dict[str, Subgraph]:
    products = Subgraph(
        "type Query { product(id: ID!): Product products: [Product!]! }"
        " type Product { id: ID! sku: String! name: String! weight(unit: String): Float }",
        root={
            "product": lambda id: _product(id),
            "products": lambda: [_product(i) for i in PRODUCTS],
        },
        references={"Product": lambda rep: _product(rep["id"])},
    )
    reviews = Subgraph(
        "type Query { unused: Int } type Product { sku: String! rating: Int }",
        references={
            "Product": lambda rep: {"sku": rep["sku"], "rating": BY_SKU[rep["sku"]]["rating"]}
        },
    )
    shipping = Subgraph(
        "type Query { unused: Int } type Product { id: ID! shippingCost: Float }",
        references={"Product": lambda rep: {"id": rep["id"], "shippingCost": _cost(rep["weight"])}},
    )
    return {"products": products, "reviews": reviews, "shipping": shipping}


MONOLITH = build_schema(
    "type Query { product(id: ID!): Product products: [Product!]! }"
    ' type Product { id: ID! sku: String! name: String! weight(unit: String = "kg"): Float'
    " rating: Int shippingCost: Float }"
)


def _whole(product: dict[str, Any] | None) -> dict[str, Any] | None:
    if product is None:
        return None
    raw = PRODUCTS[product["id"]]
    return {**product, "rating": raw["rating"], "shippingCost": _cost(raw["kg"])}


def monolith_answer(query: str) -> Any:
    def resolve(source: Any, info: Any, **args: Any) -> Any:
        value = source.get(info.field_name)
        return value(**args) if callable(value) else value

    root = {
        "product": lambda id: _whole(_product(id)),
        "products": lambda: [_whole(_product(i)) for i in PRODUCTS],
    }
    result = graphql_sync(MONOLITH, query, root_value=root, field_resolver=resolve)
    assert result.errors is None
    return result.data


def supergraph_sdl() -> str:
    urls = local_graphs(*SDLS)
    result = compose([SubgraphInput(name, urls[name], sdl) for name, sdl in SDLS.items()])
    assert result.errors == []
    assert result.supergraph_sdl is not None
    return result.supergraph_sdl


@pytest.fixture
async def router() -> AsyncIterator[httpx.AsyncClient]:
    subgraphs = make_subgraphs()
    transport = HttpTransport(local_graphs(*subgraphs), client=subgraphs_client(subgraphs))
    app = create_app(supergraph_sdl(), transport=transport)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as c:
        yield c
    await transport.aclose()


@pytest.mark.parametrize(
    "query",
    [
        '{ product(id: "p1") { id: name shippingCost } }',
        '{ product(id: "p1") { shippingCost id: name } }',
        '{ product(id: "p1") { sku: id rating } }',
        '{ product(id: "p1") { rating sku: name } }',
        '{ product(id: "p1") { id: sku sku: id rating shippingCost } }',
        '{ product(id: "p1") { weight: name shippingCost } }',
        '{ product(id: "p1") { weight: weight(unit: "lb") shippingCost } }',
        '{ product(id: "p1") { shippingCost weight: weight(unit: "lb") } }',
        '{ product(id: "p1") { typename: name __typename shippingCost } }',
        '{ product(id: "p1") { ... on Product { id: name } shippingCost rating } }',
        "{ products { id: name sku: weight weight: sku shippingCost rating } }",
        '{ product(id: "p1") { __fed_input_id: name id: sku shippingCost } }',
        '{ a: product(id: "p1") { id: name shippingCost } b: product(id: "p2") { id shippingCost } }',
    ],
)
async def test_client_names_and_router_names_stay_apart(
    router: httpx.AsyncClient, query: str
) -> None:
    response = await router.post("/graphql", json={"query": query})
    assert response.status_code == 200
    assert response.json() == {"data": monolith_answer(query)}


async def test_unknown_field_behind_an_alias_is_refused(router: httpx.AsyncClient) -> None:
    response = await router.post("/graphql", json={"query": '{ product(id: "p1") { id: nope } }'})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


NESTED_HEADER = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3",'
    ' import: ["@key", "@shareable"])\n'
)
NESTED_SDLS = {
    "catalog": NESTED_HEADER + "type Query { product: Product }"
    ' type Product @key(fields: "org { code } id") { id: ID! org: Org! name: String }'
    " type Org @shareable { code: String! title: String }",
    "ratings": NESTED_HEADER + 'type Product @key(fields: "org { code } id")'
    " { id: ID! org: Org! rating: Int } type Org @shareable { code: String! }",
}


@pytest.fixture
async def nested_router() -> AsyncIterator[httpx.AsyncClient]:
    product = {"id": "p1", "name": "Chair", "org": {"code": "ACME", "title": "Acme Inc."}}
    subgraphs = {
        "catalog": Subgraph(
            "type Query { product: Product }"
            " type Product { id: ID! org: Org! name: String }"
            " type Org { code: String! title: String }",
            root={"product": lambda: product},
        ),
        "ratings": Subgraph(
            "type Query { unused: Int } type Product { id: ID! org: Org! rating: Int }"
            " type Org { code: String! }",
            references={
                "Product": lambda rep: {
                    "id": rep["id"],
                    "org": rep["org"],
                    "rating": 4
                    if rep == {"__typename": "Product", "id": "p1", "org": {"code": "ACME"}}
                    else None,
                }
            },
        ),
    }
    urls = local_graphs(*NESTED_SDLS)
    composed = compose([SubgraphInput(n, urls[n], sdl) for n, sdl in NESTED_SDLS.items()])
    assert composed.supergraph_sdl is not None
    transport = HttpTransport(urls, client=subgraphs_client(subgraphs))
    app = create_app(composed.supergraph_sdl, transport=transport)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as c:
        yield c
    await transport.aclose()


@pytest.mark.parametrize(
    ("query", "data"),
    [
        (
            "{ product { org { code: title } rating } }",
            {"product": {"org": {"code": "Acme Inc."}, "rating": 4}},
        ),
        ("{ product { org: name rating } }", {"product": {"org": "Chair", "rating": 4}}),
        (
            "{ product { id: name org { code } rating } }",
            {"product": {"id": "Chair", "org": {"code": "ACME"}, "rating": 4}},
        ),
    ],
)
async def test_nested_key_fields_stay_apart(
    nested_router: httpx.AsyncClient, query: str, data: dict[str, Any]
) -> None:
    response = await nested_router.post("/graphql", json={"query": query})
    assert response.json() == {"data": data}
