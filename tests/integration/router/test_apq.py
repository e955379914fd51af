"""Automatic persisted queries (`apq:`): Apollo's protocol through real routers, the cache
shared by two router processes through a real Redis, and Redis stopped."""

import hashlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from common.infra.ports import free_port
from common.infra.redis import RedisServer
from router.config import RouterConfig
from router.gateway.gateway import MAX_QUERY_BYTES
from router.server import create_app
from router.server.app import reconfigure
from tests.configured_router import (
    configured_router,
    configured_router_process,
    subgraphs_served,
)
from tests.integration.router.conftest import SUPERGRAPH
from tests.integration.router.subgraphs import Subgraph
from tests.support import error_codes, serve

QUERY = "query Top { topProduct { name price } }"
TOP = {"topProduct": {"name": "Chair", "price": 10}}
MUTATION = 'mutation { createProduct(name: "Lamp") { id } }'


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str, version: Any = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256(text)}}


@pytest.fixture
async def urls(subgraphs: dict[str, Subgraph]) -> AsyncIterator[dict[str, str]]:
    async with subgraphs_served(subgraphs) as served:
        yield served


@pytest.fixture
async def router(urls: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with configured_router({}, urls) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


async def _register_and_hit(client: httpx.AsyncClient, query: str) -> None:
    registered = await client.post(
        "/graphql", json={"query": query, "extensions": persisted(query)}
    )
    assert registered.json() == {"data": TOP}
    hit = await client.post("/graphql", json={"extensions": persisted(query)})
    assert hit.json() == {"data": TOP}


async def test_unknown_hash_then_registration_then_hash_alone(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    missing = await router.post("/graphql", json={"extensions": persisted(QUERY)})
    assert missing.status_code == 200  # as Apollo answers it: the client then sends the query
    assert error_codes(missing.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert missing.headers["cache-control"] == "private, no-cache, must-revalidate"
    assert subgraphs["products"].requests == []
    await _register_and_hit(router, QUERY)
    assert len(subgraphs["products"].requests) == 2


async def test_hash_alone_over_get_and_mutations_still_refused_over_get(
    router: httpx.AsyncClient,
) -> None:
    await router.post("/graphql", json={"query": QUERY, "extensions": persisted(QUERY)})
    hit = await router.get("/graphql", params={"extensions": json.dumps(persisted(QUERY))})
    assert hit.status_code == 200
    assert hit.json() == {"data": TOP}
    registered = await router.post(
        "/graphql", json={"query": MUTATION, "extensions": persisted(MUTATION)}
    )
    assert registered.json()["data"]["createProduct"]["id"] == "new1"
    refused = await router.get("/graphql", params={"extensions": json.dumps(persisted(MUTATION))})
    assert refused.status_code == 405
    assert error_codes(refused.json()) == ["METHOD_NOT_ALLOWED"]


async def test_a_hash_that_is_not_the_querys_is_refused_and_not_registered(
    router: httpx.AsyncClient,
) -> None:
    lying = {"persistedQuery": {"version": 1, "sha256Hash": sha256("{ products { id } }")}}
    refused = await router.post("/graphql", json={"query": QUERY, "extensions": lying})
    assert refused.status_code == 400
    assert error_codes(refused.json()) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    alone = await router.post("/graphql", json={"extensions": lying})
    assert error_codes(alone.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


@pytest.mark.parametrize(
    ("extensions", "message"),
    [
        (persisted(QUERY, version=2), "unsupported persisted query version 2"),
        (persisted(QUERY, version=None), "unsupported persisted query version null"),
        ({"persistedQuery": "abc"}, "extensions.persistedQuery must be a JSON object"),
        ({"persistedQuery": {"version": 1, "sha256Hash": 7}}, "sha256Hash must be a string"),
        ({"persistedQuery": {"version": 1, "sha256Hash": "x" * 300}}, "sha256Hash must be"),
        ({"persistedQuery": {"version": 1, "sha256Hash": "not-hex"}}, "64 hexadecimal"),
        ([1, 2], "extensions must be a JSON object"),
    ],
)
async def test_malformed_persisted_query_extensions_are_refused(
    router: httpx.AsyncClient, extensions: Any, message: str
) -> None:
    response = await router.post("/graphql", json={"extensions": extensions})
    assert response.status_code == 400
    body = response.json()
    assert error_codes(body) == ["BAD_REQUEST"]
    assert message in body["errors"][0]["message"]


async def test_a_query_too_large_to_run_is_not_registered(router: httpx.AsyncClient) -> None:
    query = "{ topProduct { name } }" + " " * MAX_QUERY_BYTES
    too_large = await router.post("/graphql", json={"query": query, "extensions": persisted(query)})
    assert error_codes(too_large.json()) == ["QUERY_TOO_LARGE"]
    alone = await router.post("/graphql", json={"extensions": persisted(query)})
    assert error_codes(alone.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_when_disabled_a_hash_is_not_supported_and_queries_still_run(
    urls: dict[str, str],
) -> None:
    async with (
        configured_router({"apq": {"enabled": False}}, urls) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        alone = await client.post("/graphql", json={"extensions": persisted(QUERY)})
        assert error_codes(alone.json()) == ["PERSISTED_QUERY_NOT_SUPPORTED"]
        both = await client.post("/graphql", json={"query": QUERY, "extensions": persisted(QUERY)})
        assert error_codes(both.json()) == ["PERSISTED_QUERY_NOT_SUPPORTED"]
        plain = await client.post("/graphql", json={"query": QUERY})
        assert plain.json() == {"data": TOP}


def _redis_config(url: str) -> dict[str, Any]:
    cache = {"redis": {"urls": [url], "namespace": uuid.uuid4().hex, "ttl": "1h"}}
    return {"apq": {"router": {"cache": cache}}}


async def test_two_router_processes_share_registered_queries_through_redis(
    redis_server: RedisServer,
) -> None:
    config = _redis_config(redis_server.url)
    async with (
        configured_router_process(config) as first,
        configured_router_process(config) as second,
        httpx.AsyncClient() as client,
    ):
        missing = await client.post(f"{second}/graphql", json={"extensions": persisted(QUERY)})
        assert error_codes(missing.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
        registered = await client.post(
            f"{first}/graphql", json={"query": QUERY, "extensions": persisted(QUERY)}
        )
        assert registered.json() == {"data": TOP}
        hit = await client.post(f"{second}/graphql", json={"extensions": persisted(QUERY)})
        assert hit.json() == {"data": TOP}


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis", free_port(), fast=True) as server:
        yield server


async def test_with_redis_stopped_queries_are_registered_in_memory(
    own_redis: RedisServer, urls: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        configured_router(_redis_config(own_redis.url), urls) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        await _register_and_hit(client, QUERY)  # through Redis
        own_redis.stop()
        with caplog.at_level(logging.WARNING, logger="router"):
            other = "query Other { topProduct { name price } }"
            await _register_and_hit(client, other)
            await _register_and_hit(client, QUERY)
        down = [r for r in caplog.records if "Redis does not answer" in r.getMessage()]
        assert len(down) == 1


async def test_a_reload_keeps_registered_queries_unless_apq_changes(urls: dict[str, str]) -> None:
    app = create_app(SUPERGRAPH, urls, config=RouterConfig())
    async with serve(app, free_port()) as url, httpx.AsyncClient(base_url=url) as client:
        await _register_and_hit(client, QUERY)
        await reconfigure(app, RouterConfig.model_validate({"limits": {"max_aliases": 2}}))
        kept = await client.post("/graphql", json={"extensions": persisted(QUERY)})
        assert kept.json() == {"data": TOP}
        smaller = {"apq": {"router": {"cache": {"in_memory": {"limit": 8}}}}}
        await reconfigure(app, RouterConfig.model_validate(smaller))
        emptied = await client.post("/graphql", json={"extensions": persisted(QUERY)})
        assert error_codes(emptied.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
