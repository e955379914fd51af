"""Rate limits shared through Redis: two router processes count against one limit; with
Redis stopped, `when_redis_down: open` goes on limiting in process and `closed` refuses
(503 `RATE_LIMIT_UNAVAILABLE`); once Redis is back the limits are shared again. The outage
tests stop a Redis of their own, never the session's."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from common.infra.ports import free_port
from common.infra.redis import RedisServer
from router.config import RouterConfig
from router.metrics import REGISTRY
from router.ratelimit.gcra import Rate
from router.ratelimit.leases import lease_size
from router.ratelimit.policy import RouterLimits, SubgraphLimits
from router.ratelimit.redis_store import GCRA_SHA
from tests.integration.router.conftest import SUPERGRAPH, make_subgraphs
from tests.integration.router.subgraphs import subgraphs_app
from tests.integration.router.test_rate_limits import (
    HOUR,
    assert_rate_limited,
    running_router,
)
from tests.support import eventually, serve

# The router in a process of its own on a configuration given as JSON (until `router serve`
# reads router.yaml): argv is the configuration, the supergraph file, the port, then
# NAME=URL subgraph overrides.
_SERVE = """
import sys

import uvicorn

from router.config import RouterConfig
from router.server import create_app
from router.server.http_protocol import uvicorn_options

config, supergraph, port, *overrides = sys.argv[1:]
app = create_app(
    open(supergraph).read(),
    dict(override.split("=", 1) for override in overrides),
    config=RouterConfig.model_validate_json(config),
)
uvicorn.run(app, host="127.0.0.1", port=int(port), **uvicorn_options())
"""


async def _healthy(http: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await http.get(f"{url}/health")).status_code == 200
    except httpx.TransportError:
        return False


@contextlib.asynccontextmanager
async def router_processes(config: dict[str, Any], count: int) -> AsyncIterator[list[str]]:
    """The URLs of ``count`` router processes on ``config``, before the same subgraphs."""
    graphs = make_subgraphs()
    async with serve(subgraphs_app(graphs), free_port()) as subgraphs_url:
        with tempfile.TemporaryDirectory() as scratch:
            supergraph = Path(scratch) / "supergraph.graphql"
            supergraph.write_text(SUPERGRAPH)
            overrides = [f"{name}={subgraphs_url}/{name}/graphql" for name in graphs]
            processes: list[asyncio.subprocess.Process] = []
            try:
                urls = []
                for _ in range(count):
                    port = free_port()
                    arguments = [json.dumps(config), str(supergraph), str(port), *overrides]
                    process = await asyncio.create_subprocess_exec(
                        sys.executable, "-c", _SERVE, *arguments
                    )
                    processes.append(process)
                    urls.append(f"http://127.0.0.1:{port}")
                async with httpx.AsyncClient() as http:
                    for url in urls:
                        await eventually(functools.partial(_healthy, http, url), within=30)
                yield urls
            finally:
                for process in processes:
                    process.terminate()
                    await process.wait()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis this test may stop and start again."""
    with RedisServer(tmp_path / "redis", free_port(), fast=True) as server:
        yield server


def _namespace() -> str:
    return f"test:{uuid.uuid4().hex}"


async def _client_keys(server: RedisServer, namespace: str) -> list[bytes | str]:
    redis = Redis.from_url(server.url)
    try:
        return list(await redis.keys(f"{namespace}:client:*"))
    finally:
        await redis.aclose()


def _down_decisions(decision: str) -> float:
    labels = {"decision": decision}
    return REGISTRY.get_sample_value("router_rate_limit_redis_down_decisions_total", labels) or 0


async def test_two_router_processes_sharing_redis_share_the_limit(
    redis_server: RedisServer,
) -> None:
    config = {
        "rate_limit": {
            "redis": {"url": redis_server.url, "namespace": _namespace(), "timeout": "1s"},
            "per_client": {"capacity": 4, **HOUR},
        }
    }
    query = {"query": "{ topProduct { name } }"}
    async with router_processes(config, 2) as (first, second), httpx.AsyncClient() as http:
        statuses = [
            (await http.post(f"{url}/graphql", json=query)).status_code
            for url in (first, second) * 4
        ]
        assert statuses == [200] * 4 + [429] * 4  # in-process, each would let 4 through
        refused = await http.post(f"{first}/graphql", json=query)
    assert_rate_limited(refused, "client")


async def test_with_redis_down_open_limits_in_process_and_shares_again_once_it_is_back(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    namespace = _namespace()
    config = {
        "rate_limit": {
            "redis": {"url": own_redis.url, "namespace": namespace},
            "when_redis_down": "open",
            "per_client": {"capacity": 2, **HOUR},
            "trusted_proxies": ["127.0.0.1"],  # each test client names itself in X-Forwarded-For
        }
    }
    caplog.set_level(logging.WARNING, logger="router.ratelimit")
    async with running_router(config) as router, running_router(config) as other:
        for _ in range(2):
            assert (await router.post(forwarded_for="203.0.113.1")).status_code == 200
        assert_rate_limited(await other.post(forwarded_for="203.0.113.1"), "client")
        assert await _client_keys(own_redis, namespace)

        await asyncio.to_thread(own_redis.stop)
        local_before = _down_decisions("local")
        for _ in range(2):
            assert (await router.post(forwarded_for="203.0.113.2")).status_code == 200
        for _ in range(3):
            assert_rate_limited(await router.post(forwarded_for="203.0.113.2"), "client")
        assert _down_decisions("local") >= local_before + 5
        outage = [r for r in caplog.records if "Redis cannot be reached" in r.getMessage()]
        assert len(outage) == 1  # once per outage, not per request

        await asyncio.to_thread(own_redis.start)  # a new server: its data is gone

        async def shared_again() -> bool:
            await router.post(forwarded_for="203.0.113.3")
            return bool(await _client_keys(own_redis, namespace))

        await eventually(shared_again)
        assert any("Redis answers again" in r.getMessage() for r in caplog.records)
        for _ in range(2):
            assert (await router.post(forwarded_for="203.0.113.4")).status_code == 200
        assert_rate_limited(await other.post(forwarded_for="203.0.113.4"), "client")


async def test_with_redis_down_closed_refuses_until_it_is_back(own_redis: RedisServer) -> None:
    config = {
        "rate_limit": {
            "redis": {"url": own_redis.url, "namespace": _namespace()},
            "when_redis_down": "closed",
            "per_client": {"capacity": 100, **HOUR},
        }
    }
    async with running_router(config) as router:
        assert (await router.post()).status_code == 200
        await asyncio.to_thread(own_redis.stop)
        refused_before = _down_decisions("refused")
        arrived = router.subgraphs["products"].arrived
        response = await router.post()
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        (refusal,) = response.json()["errors"]
        assert refusal["extensions"] == {"code": "RATE_LIMIT_UNAVAILABLE"}
        assert router.subgraphs["products"].arrived == arrived
        assert _down_decisions("refused") == refused_before + 1

        await asyncio.to_thread(own_redis.start)

        async def served() -> bool:
            return (await router.post()).status_code == 200

        await eventually(served)


async def test_subgraph_limits_are_shared_and_closed_fails_only_that_fetch(
    own_redis: RedisServer,
) -> None:
    config = {
        "traffic_shaping": {"subgraphs": {"users": {"global_rate_limit": {"capacity": 1, **HOUR}}}},
        "rate_limit": {
            "redis": {"url": own_redis.url, "namespace": _namespace()},
            "when_redis_down": "closed",
        },
    }
    query = "{ products { name reviews { author { email } } } }"
    async with running_router(config) as router, running_router(config) as other:
        assert "errors" not in (await router.post(query)).json()
        emails = [
            ["products", 0, "reviews", 0, "author", "email"],
            ["products", 1, "reviews", 0, "author", "email"],
            ["products", 0, "reviews", 1, "author", "email"],
        ]
        body = (await other.post(query)).json()
        assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
            (path, "SUBGRAPH_RATE_LIMITED") for path in emails
        ]
        await asyncio.to_thread(own_redis.stop)
        body = (await other.post(query)).json()
        assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
            (path, "RATE_LIMIT_UNAVAILABLE") for path in emails
        ]
        assert [p["name"] for p in body["data"]["products"]] == ["Chair", "Table"]


async def test_a_redis_that_forgot_the_script_is_sent_it_again(redis_server: RedisServer) -> None:
    config = {
        "rate_limit": {
            "redis": {"url": redis_server.url, "namespace": _namespace()},
            "when_redis_down": "closed",
            "per_client": {"capacity": 1, **HOUR},
        }
    }
    redis = Redis.from_url(redis_server.url)
    try:
        async with running_router(config) as router:
            assert (await router.post()).status_code == 200
            await redis.script_flush()
            assert_rate_limited(await router.post(), "client")  # NOSCRIPT: sent whole (EVAL)
            assert await redis.script_exists(GCRA_SHA) == [True]
    finally:
        await redis.aclose()


async def _evalsha_calls(redis: Redis) -> int:
    stats = await redis.info("commandstats")
    calls: int = stats.get("cmdstat_evalsha", {}).get("calls", 0)
    return calls


async def test_a_subgraphs_permits_are_leased_and_the_shared_count_holds(
    own_redis: RedisServer,
) -> None:
    """Capacity 1,000: leases of 10, so 25 calls cost 3 round trips; two routers spending
    leases and then single permits never let more than the capacity through, nor refuse
    while more than their unspent leases are left."""
    config = RouterConfig.model_validate(
        {
            "rate_limit": {"redis": {"url": own_redis.url, "namespace": _namespace()}},
            "traffic_shaping": {"all": {"global_rate_limit": {"capacity": 1000, **HOUR}}},
        }
    )
    first, second = SubgraphLimits(config), SubgraphLimits(config)
    redis = Redis.from_url(own_redis.url)
    try:
        before = await _evalsha_calls(redis)
        for _ in range(25):
            assert (await first.check("products")).allowed
        assert await _evalsha_calls(redis) - before == 3
        allowed = 25
        for _ in range(1000):
            decisions = [await limits.check("products") for limits in (first, second)]
            allowed += sum(decision.allowed for decision in decisions)
            if not all(decision.allowed for decision in decisions):
                break
        assert 1000 - 2 * lease_size(Rate(1000, 3600)) <= allowed <= 1000
        refused = await first.check("products")
        assert (refused.allowed, refused.scope) == (False, "subgraph")
    finally:
        await redis.aclose()
        await first.aclose()
        await second.aclose()


async def test_a_clients_permits_are_leased_and_two_routers_never_let_more_through(
    own_redis: RedisServer,
) -> None:
    """The router-wide, per-client and per-operation limits (capacity 1,000 an hour: leases
    of 10) are asked for together: 25 requests of one client cost 3 round trips. Two routers
    sharing the count let at most the client's capacity through, and refuse it only once
    fewer permits are left than their unspent leases; another client is not held back."""
    config = RouterConfig.model_validate(
        {
            "rate_limit": {
                "redis": {"url": own_redis.url, "namespace": _namespace()},
                "per_client": {"capacity": 1000, **HOUR},
                "per_operation": {"capacity": 100_000, **HOUR},
            },
            "traffic_shaping": {"router": {"global_rate_limit": {"capacity": 100_000, **HOUR}}},
        }
    )
    first, second = RouterLimits(config), RouterLimits(config)
    redis = Redis.from_url(own_redis.url)
    try:
        before = await _evalsha_calls(redis)
        for _ in range(25):
            assert (await first.check("203.0.113.7", "Courses")).allowed
        assert await _evalsha_calls(redis) - before == 3
        allowed = 25
        for _ in range(1000):
            decisions = [await r.check("203.0.113.7", "Courses") for r in (first, second)]
            allowed += sum(decision.allowed for decision in decisions)
            if not all(decision.allowed for decision in decisions):
                break
        assert 1000 - 2 * lease_size(Rate(1000, 3600)) <= allowed <= 1000
        refused = await first.refusal("203.0.113.7", "Courses")
        assert refused is not None
        assert refused.status == 429
        assert "client rate limit" in refused.error["message"]
        assert await first.refusal("198.51.100.2", "Courses") is None
    finally:
        await redis.aclose()
        await first.aclose()
        await second.aclose()
