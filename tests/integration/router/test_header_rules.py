"""Header rules (`headers:`): what each subgraph receives of the client's headers, observed
at the subgraphs, through a router on a real port."""

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
import pytest

from tests.configured_router import configured_router, subgraphs_served
from tests.integration.router.subgraphs import Subgraph
from tests.support import eventually

# products answers topProduct, reviews its reviews: one request to each
QUERY = "{ topProduct { name reviews { body } } }"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
async def urls(subgraphs: dict[str, Subgraph]) -> AsyncIterator[dict[str, str]]:
    async with subgraphs_served(subgraphs) as served:
        yield served


async def _seen(
    urls: dict[str, str],
    subgraphs: dict[str, Subgraph],
    config: dict[str, Any],
    headers: Mapping[str, str],
) -> tuple[dict[str, str], dict[str, str]]:
    """The headers products and reviews received for one query sent with `headers`."""
    async with configured_router(config, urls) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.post("/graphql", json={"query": QUERY}, headers=headers)
    assert "errors" not in response.json(), response.json()
    return dict(subgraphs["products"].headers[-1]), dict(subgraphs["reviews"].headers[-1])


async def test_without_rules_authorization_forwarded_for_and_trace_context_go_through(
    urls: dict[str, str], subgraphs: dict[str, Subgraph]
) -> None:
    products, reviews = await _seen(
        urls,
        subgraphs,
        {},
        {
            "authorization": "Bearer t",
            "x-forwarded-for": "203.0.113.7",
            "traceparent": TRACEPARENT,
            "tracestate": "vendor=1",
            "x-tenant": "acme",
            "cookie": "session=secret",
        },
    )
    for seen in (products, reviews):
        assert seen["authorization"] == "Bearer t"
        assert seen["x-forwarded-for"].startswith("203.0.113.7, ")  # the peer appended
        assert (seen["traceparent"], seen["tracestate"]) == (TRACEPARENT, "vendor=1")
        assert "x-tenant" not in seen
        assert "cookie" not in seen


async def test_each_rule_kind_in_order_all_then_the_subgraphs_own(
    urls: dict[str, str], subgraphs: dict[str, Subgraph]
) -> None:
    config = {
        "headers": {
            "all": {
                "request": [
                    {"propagate": {"named": "X-Tenant"}},
                    {"propagate": {"named": "x-old", "rename": "x-new"}},
                    {"propagate": {"named": "x-absent", "default": "fallback"}},
                    {"propagate": {"matching": "^x-team-"}},
                    {"insert": {"name": "x-router", "value": "lms"}},
                    {"remove": {"named": "x-team-secret"}},
                    {"remove": {"named": "authorization"}},
                ]
            },
            "subgraphs": {
                "reviews": {
                    "request": [
                        {"insert": {"name": "x-only-reviews", "value": "yes"}},
                        {"remove": {"matching": "^x-team-"}},
                    ]
                }
            },
        }
    }
    products, reviews = await _seen(
        urls,
        subgraphs,
        config,
        {
            "authorization": "Bearer t",
            "x-tenant": "acme",
            "x-old": "renamed",
            "x-team-a": "1",
            "x-team-secret": "s",
            "x-unlisted": "no",
        },
    )
    for seen in (products, reviews):
        assert seen["x-tenant"] == "acme"
        assert seen["x-new"] == "renamed"
        assert "x-old" not in seen
        assert seen["x-absent"] == "fallback"
        assert seen["x-router"] == "lms"
        assert "x-team-secret" not in seen
        assert "authorization" not in seen
        assert "x-unlisted" not in seen
    assert products["x-team-a"] == "1"
    assert "x-only-reviews" not in products
    assert reviews["x-only-reviews"] == "yes"
    assert "x-team-a" not in reviews


async def test_hop_by_hop_and_body_headers_are_never_forwarded_trace_context_always(
    urls: dict[str, str], subgraphs: dict[str, Subgraph]
) -> None:
    everything = {"propagate": {"matching": ".*"}}
    config = {
        "headers": {
            "all": {
                "request": [
                    everything,
                    {"propagate": {"named": "keep-alive"}},
                    {"insert": {"name": "proxy-authorization", "value": "Basic inserted"}},
                    {"remove": {"matching": "^trace"}},
                ]
            }
        }
    }
    products, _ = await _seen(
        urls,
        subgraphs,
        config,
        {
            "host": "router.example",
            "content-type": "application/json; client=1",
            "accept": "application/json, client/1",
            "accept-encoding": "client-encoding",
            "te": "trailers",
            "keep-alive": "timeout=99",
            "proxy-authorization": "Basic client",
            "sec-websocket-key": "client",
            "traceparent": TRACEPARENT,
            "x-anything": "forwarded",
        },
    )
    assert products["x-anything"] == "forwarded"
    assert products["traceparent"] == TRACEPARENT
    assert products["host"] != "router.example"
    assert products["content-type"] == "application/json"
    assert "client" not in products.get("accept", "")
    assert products.get("accept-encoding") != "client-encoding"
    for name in ("te", "keep-alive", "proxy-authorization", "sec-websocket-key"):
        assert name not in products


async def test_identical_queries_in_flight_share_an_execution_only_with_the_same_headers(
    urls: dict[str, str], subgraphs: dict[str, Subgraph]
) -> None:
    config = {"headers": {"all": {"request": [{"propagate": {"named": "x-tenant"}}]}}}
    products = subgraphs["products"]
    products.gate = asyncio.Event()
    async with (
        configured_router(config, urls, deduplicate=True) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        sent = [
            asyncio.create_task(
                client.post("/graphql", json={"query": QUERY}, headers={"x-tenant": tenant})
            )
            for tenant in ("a", "a", "b", "b", "a")
        ]
        try:
            await eventually(lambda: products.arrived == 2)
        finally:
            products.gate.set()  # (also when the check fails: nothing is left waiting)
        answers = [(await task).json() for task in sent]
    assert all(answer == answers[0] for answer in answers)
    assert sorted(seen["x-tenant"] for seen in products.headers) == ["a", "b"]
