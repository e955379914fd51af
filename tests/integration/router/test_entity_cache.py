"""`preview_entity_cache` through the router over HTTP: the response's Cache-Control from the
subgraphs' (POST and GET with an APQ hash), entities and root fields served from a real Redis
and the local layer, partial entity hits, two users' private answers kept apart,
invalidation messages at two routers, and Redis down."""

import asyncio
import functools
import hashlib
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from joserfc.jwk import RSAKey

from common.auth.keys import KEY_PARAMETERS
from common.infra.ports import free_port
from common.infra.redis import RedisServer
from router.cache.invalidation import message
from router.metrics import REGISTRY
from tests.configured_router import configured_router, subgraphs_served
from tests.integration.router.entity_cache_world import (
    PUBLIC,
    Sign,
    World,
    cache_config,
    cached_router,
    signer,
    supergraph,
)
from tests.integration.router.test_authorization import jwks_server
from tests.support import eventually

CATALOGUE = "query Catalogue { courses { id title } }"
OUTLINE = "query Outline($id: ID!) { course(id: $id) { id title } }"
PROGRESS = "query Progress { courses { id title myProgress } }"


@pytest.fixture
def world() -> World:
    world = World()
    world.build()
    return world


@pytest.fixture(scope="module")
def key() -> RSAKey:
    generated = RSAKey.generate_key(2048, parameters=KEY_PARAMETERS)
    generated.ensure_kid()
    return generated


@pytest.fixture(scope="module")
async def jwks_url(key: RSAKey) -> AsyncIterator[str]:
    async with jwks_server([key]) as url:
        yield url


@pytest.fixture(scope="module")
def sign(key: RSAKey) -> Sign:
    return signer(key)


async def _post(
    client: httpx.AsyncClient, query: str, token: str | None = None, **variables: Any
) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body: dict[str, Any] = {"query": query}
    if variables:
        body["variables"] = variables
    return await client.post("/graphql", json=body, headers=headers)


def _vary(response: httpx.Response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("vary", "").split(",") if v.strip()}


def _entity_requests(world: World, service: str) -> list[list[dict[str, Any]]]:
    return [
        r["variables"]["representations"]
        for r in world.subgraphs[service].requests
        if "representations" in (r.get("variables") or {})
    ]


async def test_without_the_cache_responses_carry_no_cache_control(world: World) -> None:
    async with cached_router(world.subgraphs, None) as router:
        answer = await _post(router, CATALOGUE)
    assert answer.json()["data"]["courses"][0] == {"id": "c1", "title": "Course 1"}
    assert "cache-control" not in answer.headers


async def test_the_response_policy_is_the_subgraphs_shortest_and_private_if_any_part_is(
    world: World, jwks_url: str, sign: Sign
) -> None:
    async with cached_router(world.subgraphs, cache_config(None), jwks_url) as router:
        public = await _post(router, CATALOGUE)
        assert public.headers["cache-control"] == "max-age=60, public"
        assert "authorization" not in _vary(public)
        mixed = await _post(router, PROGRESS, sign("ada"))
        assert mixed.json()["data"]["courses"][0] == {
            "id": "c1",
            "title": "Course 1",
            "myProgress": None,
        }
        assert mixed.headers["cache-control"] == "max-age=30, private"
        assert "authorization" in _vary(mixed)
        renamed = await router.post(
            "/graphql", json={"query": 'mutation { rename(id: "c1", title: "X") { id } }'}
        )
        assert renamed.headers["cache-control"] == "no-store"
        world.subgraphs["catalog"].cache_control = None  # a subgraph that says nothing
        fresh = await _post(router, OUTLINE, id="c2")  # (not cached yet)
        assert fresh.headers["cache-control"] == "no-store"
        failed = await _post(router, "{ course(id: 1) { nope } }")
        assert failed.headers["cache-control"] == "no-store"


async def test_a_get_with_a_persisted_query_hash_is_cacheable_by_its_policy(
    world: World,
) -> None:
    extensions = {
        "persistedQuery": {
            "version": 1,
            "sha256Hash": hashlib.sha256(CATALOGUE.encode()).hexdigest(),
        }
    }
    async with cached_router(world.subgraphs, cache_config(None)) as router:
        await router.post("/graphql", json={"query": CATALOGUE, "extensions": extensions})
        answer = await router.get(
            "/graphql",
            params={"extensions": json.dumps(extensions)},
            headers={"origin": "https://app.test", "accept-encoding": "gzip"},
        )
    assert answer.json()["data"]["courses"][1]["title"] == "Course 2"
    assert answer.headers["cache-control"] == PUBLIC
    assert {"origin", "accept-encoding"} <= _vary(answer)


async def test_root_fields_and_entities_are_served_from_redis_to_another_router(
    world: World, redis_server: RedisServer
) -> None:
    world.subgraphs["progress"].cache_control = PUBLIC  # (anonymous callers here)
    config = cache_config(redis_server.url)
    async with cached_router(world.subgraphs, config) as first:
        assert (await _post(first, PROGRESS)).status_code == 200
    catalog = world.subgraphs["catalog"]
    progress = world.subgraphs["progress"]
    sent = (len(catalog.requests), len(progress.requests))
    async with cached_router(world.subgraphs, config) as second:  # an empty local layer
        answer = await _post(second, PROGRESS)
        assert answer.json()["data"]["courses"][4] == {
            "id": "c5",
            "title": "Course 5",
            "myProgress": None,
        }
        assert answer.headers["cache-control"].endswith(", public")
        assert (len(catalog.requests), len(progress.requests)) == sent


async def test_an_entity_fetch_asks_the_subgraph_only_for_the_entities_not_cached(
    world: World, redis_server: RedisServer
) -> None:
    world.subgraphs["progress"].cache_control = PUBLIC  # (anonymous callers here)
    async with cached_router(world.subgraphs, cache_config(redis_server.url)) as router:
        outline = "query Outline($id: ID!) { course(id: $id) { id title myProgress } }"
        await _post(router, outline, id="c2")
        await _post(router, outline, id="c4")
        answer = await _post(router, PROGRESS)
    courses = answer.json()["data"]["courses"]
    assert [c["id"] for c in courses] == ["c1", "c2", "c3", "c4", "c5"]
    assert _entity_requests(world, "progress")[-1] == [
        {"__typename": "Course", "id": c} for c in ("c1", "c3", "c5")
    ]


async def test_one_users_private_answers_are_never_served_to_another(
    world: World, redis_server: RedisServer, jwks_url: str, sign: Sign
) -> None:
    world.progress = {"ada": {"c1": 90}, "alan": {"c1": 10}}
    config = cache_config(redis_server.url)
    async with cached_router(world.subgraphs, config, jwks_url) as router:
        ada = await _post(router, PROGRESS, sign("ada"))
        assert ada.json()["data"]["courses"][0]["myProgress"] == 90
        alan = await _post(router, PROGRESS, sign("alan"))
        assert alan.json()["data"]["courses"][0]["myProgress"] == 10
        asked = len(world.subgraphs["progress"].requests)
        again = await _post(router, PROGRESS, sign("ada"))  # from the cache, Ada's own
        assert again.json()["data"]["courses"][0]["myProgress"] == 90
        assert len(world.subgraphs["progress"].requests) == asked
        anonymous = await _post(router, PROGRESS)
        assert anonymous.json()["data"]["courses"][0]["myProgress"] is None
        assert anonymous.headers["cache-control"] == "max-age=30, private"


async def test_an_answer_that_passed_authorization_is_private_whatever_the_subgraph_says(
    world: World, jwks_url: str, sign: Sign
) -> None:
    world.subgraphs["progress"].cache_control = PUBLIC
    async with cached_router(world.subgraphs, cache_config(None), jwks_url) as router:
        ada = await _post(router, "{ myCourseCount }", sign("ada"))
        assert ada.json() == {"data": {"myCourseCount": 3}}
        assert ada.headers["cache-control"] == "max-age=60, private"
        assert "authorization" in _vary(ada)
        anonymous = await _post(router, "{ myCourseCount }")
        assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert anonymous.headers["cache-control"] == "no-store"


async def _published(url: str, channel: str, body: bytes) -> None:
    async with redis.Redis.from_url(url) as client:
        await client.publish(channel, body)


async def _title(router: httpx.AsyncClient, course_id: str) -> str:
    answer = await _post(router, OUTLINE, id=course_id)
    return str(answer.json()["data"]["course"]["title"])


async def _titles(router: httpx.AsyncClient) -> list[str]:
    answer = await _post(router, CATALOGUE)
    return [course["title"] for course in answer.json()["data"]["courses"]]


async def test_an_invalidation_message_drops_the_entity_and_root_answers_at_two_routers(
    world: World, redis_server: RedisServer
) -> None:
    config = cache_config(redis_server.url)
    channel = config["invalidation"]["channel"]
    async with (
        cached_router(world.subgraphs, config) as first,
        cached_router(world.subgraphs, config) as second,
    ):
        routers = (first, second)
        for router in routers:  # each one's local layer holds them
            await _titles(router)
            await _title(router, "c3")
            await _title(router, "c1")
        world.titles.update(c1="New 1", c3="New 3")
        assert await _title(second, "c3") == "Course 3"  # cached, as it should be
        await _published(
            redis_server.url, channel, message("Course", {"id": "c3"}, "course.updated")
        )
        for router in routers:
            await eventually(functools.partial(_has_title, router, "c3", "New 3"))
            # the catalogue held c3: dropped too (and fetched again, with c1's new title)
            assert (await _titles(router))[:3] == ["New 1", "Course 2", "New 3"]
            assert await _title(router, "c1") == "Course 1"  # not named: still cached
        await _published(redis_server.url, channel, message(None, None, "purge"))
        for router in routers:
            await eventually(functools.partial(_has_title, router, "c1", "New 1"))


async def _has_title(router: httpx.AsyncClient, course_id: str, title: str) -> bool:
    return await _title(router, course_id) == title


async def test_an_aliased_root_answer_holding_an_invalidated_entity_is_dropped(
    world: World, redis_server: RedisServer
) -> None:
    config = cache_config(redis_server.url)
    aliased = "{ featured: courses { key: id name: title } }"

    async def second_name(router: httpx.AsyncClient) -> str:
        answer = (await _post(router, aliased)).json()
        return str(answer["data"]["featured"][1]["name"])

    async def renamed(router: httpx.AsyncClient) -> bool:
        return await second_name(router) == "New 2"

    async with cached_router(world.subgraphs, config) as router:
        assert await second_name(router) == "Course 2"
        world.titles["c2"] = "New 2"
        assert await second_name(router) == "Course 2"  # cached
        await _published(
            redis_server.url,
            config["invalidation"]["channel"],
            message("Course", {"id": "c2"}, "course.updated"),
        )
        await eventually(functools.partial(renamed, router))


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis", free_port(), fast=True) as server:
        yield server


def _lookups(result: str) -> float:
    sample = REGISTRY.get_sample_value("router_entity_cache_lookups_total", {"result": result})
    return sample or 0.0


def _redis_failures() -> float:
    return REGISTRY.get_sample_value("router_entity_cache_redis_failures_total") or 0.0


async def test_with_redis_down_the_router_serves_uncached_with_a_metric_and_a_log_line(
    world: World, own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    before = _redis_failures()
    async with cached_router(world.subgraphs, cache_config(own_redis.url)) as router:
        own_redis.stop()
        with caplog.at_level(logging.WARNING, logger="router"):
            for course in ("c1", "c2"):
                answer = await _post(router, OUTLINE, id=course)
                assert answer.status_code == 200
                assert answer.json() == {"data": {"course": world.course(course)}}
            assert len(world.subgraphs["catalog"].requests) == 2
    assert _redis_failures() > before
    assert any("entity cache: Redis does not answer" in r.getMessage() for r in caplog.records)


async def _purge(config_file: Path, *arguments: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "router",
        "cache",
        "purge",
        "--config",
        str(config_file),
        *arguments,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])},
    )
    _, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stderr.decode()


async def test_router_cache_purge_drops_one_entity_or_everything_at_the_routers(
    world: World, redis_server: RedisServer, tmp_path: Path
) -> None:
    config = cache_config(redis_server.url)
    config_file = tmp_path / "router.yaml"
    config_file.write_text(json.dumps({"preview_entity_cache": config}))
    async with cached_router(world.subgraphs, config) as router:
        for course in ("c1", "c2"):
            await _title(router, course)
        world.titles.update(c1="New 1", c2="New 2")
        status, said = await _purge(config_file, "--type", "Course", "--key", "id=c2")
        assert (status, said.strip()) == (0, "1 entries deleted from Redis; 1 routers told")
        await eventually(functools.partial(_has_title, router, "c2", "New 2"))
        assert await _title(router, "c1") == "Course 1"
        assert (await _purge(config_file, "--all"))[0] == 0
        await eventually(functools.partial(_has_title, router, "c1", "New 1"))
    status, said = await _purge(config_file, "--key", "id=c2")
    assert (status, said.strip()) == (
        2,
        "error: say what to purge: --type TYPE [--key FIELD=VALUE], or --all",
    )
    config_file.write_text("{}")
    status, said = await _purge(config_file, "--all")
    assert status == 2
    assert said.startswith("error: preview_entity_cache.subgraph.all.redis is not configured")


@pytest.mark.parametrize("client", ["streams", "httpx", "aiohttp"])
async def test_every_subgraph_client_passes_the_subgraphs_cache_control_on(
    world: World, client: str
) -> None:
    world.subgraphs["catalog"].cache_control = "public, max-age=45"
    async with (
        subgraphs_served(world.subgraphs) as urls,
        configured_router(
            {"preview_entity_cache": cache_config(None), "client": {"kind": client}},
            urls,
            supergraph(),
        ) as url,
        httpx.AsyncClient(base_url=url) as router,
    ):
        answer = await _post(router, CATALOGUE)
        assert answer.headers["cache-control"] == "max-age=45, public"
        world.subgraphs["catalog"].cache_control = "max-age=45, no-store"
        assert (await _post(router, OUTLINE, id="c1")).headers["cache-control"] == "no-store"


async def test_concurrent_misses_of_one_entry_send_one_subgraph_request(world: World) -> None:
    catalog = world.subgraphs["catalog"]
    catalog.gate = asyncio.Event()
    misses = _lookups("miss")
    async with cached_router(world.subgraphs, cache_config(None)) as router:
        asking = [asyncio.create_task(_post(router, OUTLINE, id="c2")) for _ in range(5)]
        # each missed, then waits on the one request (nothing is awaited between the two)
        await eventually(lambda: _lookups("miss") == misses + 5 and catalog.arrived >= 1)
        catalog.gate.set()
        answers = await asyncio.gather(*asking)
    assert {a.json()["data"]["course"]["title"] for a in answers} == {"Course 2"}
    assert catalog.arrived == 1


async def test_a_subgraph_or_a_type_turned_off_is_not_cached(world: World) -> None:
    world.subgraphs["progress"].cache_control = PUBLIC
    off = cache_config(None, subgraph={"all": {}, "subgraphs": {"catalog": {"enabled": False}}})
    async with cached_router(world.subgraphs, off) as router:
        for _ in range(2):
            answer = await _post(router, PROGRESS)
        assert answer.headers["cache-control"] == PUBLIC  # (its policy still counts)
    assert (
        len(world.subgraphs["catalog"].requests),
        len(world.subgraphs["progress"].requests),
    ) == (
        2,
        1,
    )
    async with cached_router(
        world.subgraphs, cache_config(None, types={"Course": False})
    ) as router:
        for _ in range(2):
            await _post(router, PROGRESS)
    assert (
        len(world.subgraphs["catalog"].requests),
        len(world.subgraphs["progress"].requests),
    ) == (
        3,
        3,
    )
