"""Demand control through the router on a real port, its subgraphs on another: in `enforce`
mode an operation estimated over the maximum is refused before any subgraph is called, a cheap
one is served; in `measure` mode both are served and /metrics shows estimated and actual
costs. Hostile slicing arguments (huge, negative, of the wrong type) included."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from common.infra.ports import free_port
from router.composition import SubgraphInput, compose
from router.config import RouterConfig
from router.server import create_app
from tests.integration.router.subgraphs import Subgraph, subgraphs_app
from tests.support import serve

MAX = 100
FEDERATED = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9",
                    import: ["@key", "@cost", "@listSize"])
type Query {
  products(first: Int): [Product!]!
    @listSize(slicingArguments: ["first"], requireOneSlicingArgument: false)
  report: String @cost(weight: 500)
  page(first: Int, last: Int): [Product!]! @listSize(slicingArguments: ["first", "last"])
}
type Product @key(fields: "id") {
  id: ID!
  name: String!
  reviews: [Review!]! @listSize(assumedSize: 5)
}
type Review { body: String! }
"""
PLAIN = """
type Query { products(first: Int): [Product!]! report: String page(first: Int, last: Int): [Product!]! }
type Product { id: ID! name: String! reviews: [Review!]! }
type Review { body: String! }
"""
CATALOGUE = [
    {"id": f"p{i}", "name": f"Product {i}", "reviews": [{"body": "fine"}] * i} for i in range(4)
]


def _products(first: int | None = None) -> list[dict[str, Any]]:
    return CATALOGUE[: max(first if first is not None else len(CATALOGUE), 0)]


def _page(first: int | None = None, last: int | None = None) -> list[dict[str, Any]]:
    return _products(first) if last is None else CATALOGUE[-last:]


Router = Callable[..., AbstractAsyncContextManager[tuple[httpx.AsyncClient, Subgraph]]]


@pytest.fixture
def router() -> Router:
    @asynccontextmanager
    async def running(
        mode: str, sample_rate: float = 1.0
    ) -> AsyncIterator[tuple[httpx.AsyncClient, Subgraph]]:
        root = {"products": _products, "report": "all good", "page": _page}
        catalogue = Subgraph(PLAIN, root=root)
        async with serve(subgraphs_app({"catalogue": catalogue}), free_port()) as subgraphs:
            composed = compose(
                [SubgraphInput("catalogue", f"{subgraphs}/catalogue/graphql", FEDERATED)]
            )
            assert composed.supergraph_sdl is not None, composed.errors
            config = RouterConfig.model_validate(
                {
                    "demand_control": {
                        "enabled": True,
                        "mode": mode,
                        "strategy": {"static_estimated": {"list_size": 10, "max": MAX}},
                        "actual_cost_sample_rate": sample_rate,
                    }
                }
            )
            app = create_app(composed.supergraph_sdl, config=config)
            async with serve(app, free_port()) as url, httpx.AsyncClient(base_url=url) as client:
                yield client, catalogue

    return running


async def _post(client: httpx.AsyncClient, query: str, **variables: Any) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables})


def _sample(text: str, name: str, labels: dict[str, str]) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


EXPENSIVE = "query Expensive { products(first: 50) { name reviews { body } } }"  # 50 * (1 + 5)


async def test_enforce_refuses_before_any_subgraph_call(router: Router) -> None:
    async with router("enforce") as (client, catalogue):
        refused = await _post(client, EXPENSIVE)
        cheap = await _post(client, "{ products(first: 2) { name } }")
        weighted = await _post(client, "{ report }")
    assert refused.status_code == 400
    [error] = refused.json()["errors"]
    assert error["extensions"] == {
        "code": "COST_ESTIMATED_TOO_EXPENSIVE",
        "cost.estimated": 300.0,
        "cost.max": MAX,
    }
    assert "data" not in refused.json()
    assert weighted.json()["errors"][0]["extensions"]["cost.estimated"] == 500.0
    assert cheap.json() == {"data": {"products": [{"name": "Product 0"}, {"name": "Product 1"}]}}
    assert len(catalogue.requests) == 1  # the cheap one only


@pytest.mark.parametrize(
    ("first", "served"),
    [(3, True), (1_000_000_000, False), (-1, True), (None, True), (200, False)],
)
async def test_enforce_reads_the_slicing_variable(
    router: Router, first: int | None, served: bool
) -> None:
    query = "query Slice($first: Int) { products(first: $first) { id } }"
    async with router("enforce") as (client, catalogue):
        response = await _post(client, query, first=first)
    body = response.json()
    if served:
        assert body["data"]["products"] == [{"id": p["id"]} for p in _products(first)]
        assert len(catalogue.requests) == 1
    else:
        assert body["errors"][0]["extensions"]["code"] == "COST_ESTIMATED_TOO_EXPENSIVE"
        assert catalogue.requests == []


@pytest.mark.parametrize("first", ["1000000000", 1.5, {"n": 1}, [1], True, 2**40])
async def test_a_slicing_variable_of_the_wrong_type_is_refused(
    router: Router, first: object
) -> None:
    query = "query Slice($first: Int) { products(first: $first) { reviews { body } } }"
    async with router("enforce") as (client, catalogue):
        response = await _post(client, query, first=first)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert catalogue.requests == []


async def test_a_whole_float_slices_as_an_int(router: Router) -> None:
    """GraphQL's Int accepts 1e9 written as a float: the estimate reads it as well."""
    query = "query Slice($first: Int) { products(first: $first) { id } }"
    async with router("enforce") as (client, catalogue):
        response = await _post(client, query, first=1e9)
    assert response.json()["errors"][0]["extensions"]["code"] == "COST_ESTIMATED_TOO_EXPENSIVE"
    assert catalogue.requests == []


async def test_measure_serves_and_records_estimated_and_actual(router: Router) -> None:
    async with router("measure") as (client, catalogue):
        before = (await client.get("/metrics")).text
        served = await _post(client, EXPENSIVE)
        after = (await client.get("/metrics")).text
    assert served.status_code == 200
    assert len(served.json()["data"]["products"]) == len(CATALOGUE)
    assert len(catalogue.requests) == 1

    def delta(name: str, **labels: str) -> float:
        labels = {"operation": "Expensive", **labels}
        return _sample(after, name, labels) - _sample(before, name, labels)

    too_expensive = {"result": "COST_ESTIMATED_TOO_EXPENSIVE"}
    assert delta("router_operation_cost_estimated_count", **too_expensive) == 1
    assert delta("router_operation_cost_estimated_sum", **too_expensive) == 300
    actual = len(CATALOGUE) + sum(range(len(CATALOGUE)))  # each product 1, each review 1
    assert delta("router_operation_cost_actual_sum") == actual
    # estimated - actual = 290 (a histogram with negative buckets keeps no sum)
    assert delta("router_operation_cost_delta_bucket", le="100.0") == 0
    assert delta("router_operation_cost_delta_bucket", le="1000.0") == 1


async def test_actual_costs_are_measured_on_the_configured_share_of_responses(
    router: Router,
) -> None:
    """`actual_cost_sample_rate: 0`: every operation is still estimated, no response walked."""
    async with router("measure", sample_rate=0.0) as (client, _):
        before = (await client.get("/metrics")).text
        for _ in range(3):
            assert (await _post(client, EXPENSIVE)).status_code == 200
        after = (await client.get("/metrics")).text
    labels = {"operation": "Expensive"}
    name = "router_operation_cost_actual_count"
    assert _sample(after, name, labels) - _sample(before, name, labels) == 0
    estimated = {**labels, "result": "COST_ESTIMATED_TOO_EXPENSIVE"}
    name = "router_operation_cost_estimated_count"
    assert _sample(after, name, estimated) - _sample(before, name, estimated) == 3


@pytest.mark.parametrize("query", ["{ page { id } }", "{ page(first: 1, last: 1) { id } }"])
async def test_enforce_requires_exactly_one_slicing_argument(router: Router, query: str) -> None:
    async with router("enforce") as (client, catalogue):
        refused = await _post(client, query)
        served = await _post(client, "{ page(last: 1) { id } }")
    [error] = refused.json()["errors"]
    assert error["extensions"]["code"] == "COST_QUERY_PARSE_FAILURE"
    assert "Query.page takes exactly one of its slicing arguments (first, last)" in error["message"]
    assert served.json() == {"data": {"page": [{"id": "p3"}]}}
    assert len(catalogue.requests) == 1


async def test_measure_serves_what_it_cannot_cost(router: Router) -> None:
    async with router("measure") as (client, catalogue):
        served = await _post(client, "{ page { id } }")
    assert served.json() == {"data": {"page": [{"id": p["id"]} for p in CATALOGUE]}}
    assert len(catalogue.requests) == 1
