"""Subgraph errors, failures and timeouts: partial data, rewritten paths, null propagation."""

from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from router.server import create_app
from tests.integration.router.conftest import SUPERGRAPH, USERS, RouterFactory
from tests.integration.router.subgraphs import Subgraph


async def test_entity_error_path_is_rewritten_to_the_client_path(
    router: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(USERS, "u2", {**USERS["u2"], "email": ValueError("email hidden")})
    query = "{ products { reviews { author { email } } } }"
    body = (await router.post("/graphql", json={"query": query})).json()
    assert body["data"]["products"][0]["reviews"][1] == {"author": {"email": None}}
    assert body["data"]["products"][0]["reviews"][0] == {"author": {"email": "ada@example.com"}}
    [error] = body["errors"]
    assert error["message"] == "email hidden"
    assert error["path"] == ["products", 0, "reviews", 1, "author", "email"]
    assert error["extensions"]["serviceName"] == "users"


async def test_null_in_non_null_field_propagates_to_nearest_nullable_parent(
    router: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(USERS, "u2", {**USERS["u2"], "name": ValueError("no name")})
    query = '{ product(id: "p1") { name reviews { author { name } } } }'
    body = (await router.post("/graphql", json={"query": query})).json()
    assert body["data"] == {"product": None}
    paths = [e.get("path") for e in body["errors"]]
    assert ["product", "reviews", 1, "author", "name"] in paths


async def test_subgraph_down_gives_partial_data_and_a_coded_error(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["users"].down = True
    query = '{ product(id: "p2") { name reviews { body author { email } } } }'
    body = (await router.post("/graphql", json={"query": query})).json()
    assert body["data"] == {
        "product": {"name": "Table", "reviews": [{"body": "Solid", "author": {"email": None}}]}
    }
    [error] = body["errors"]
    assert error["extensions"]["code"] == "SUBREQUEST_HTTP_ERROR"
    assert error["extensions"]["serviceName"] == "users"
    assert "users" in error["message"]


async def test_slow_subgraph_times_out_with_partial_data(
    router_factory: RouterFactory, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["reviews"].delay = 0.5
    async with router_factory(timeouts={"reviews": 0.05}) as client:
        query = '{ product(id: "p1") { name reviews { body } } }'
        body = (await client.post("/graphql", json={"query": query})).json()
    assert body["data"] == {"product": None}
    codes = [e["extensions"].get("code") for e in body["errors"] if "extensions" in e]
    assert "SUBGRAPH_TIMEOUT" in codes


async def test_root_subgraph_down_nulls_only_its_fields(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["products"].down = True
    body = (await router.post("/graphql", json={"query": '{ product(id: "p1") { name } }'})).json()
    assert body["data"] == {"product": None}
    assert body["errors"][0]["extensions"]["serviceName"] == "products"


class _BrokenTransport:
    async def send(
        self,
        service: str,
        payload: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        idempotent: bool = False,
    ) -> Any:
        raise RuntimeError("boom")

    async def send_multipart(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> dict[str, Any]:
        raise RuntimeError("boom")

    async def aclose(self) -> None:
        return None


async def test_unexpected_failure_is_a_coded_500_without_a_stack_trace() -> None:
    app = create_app(SUPERGRAPH, transport=_BrokenTransport())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as client:
        response = await client.post("/graphql", json={"query": "{ topProduct { id } }"})
    assert response.status_code == 500
    assert response.json() == {
        "errors": [
            {"message": "internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
        ]
    }
