"""The entity cache (`preview_entity_cache`, issue 28) through served routers, in one run:

1. a catalogue page (20 courses and their instructors: a root fetch and an entity fetch)
   and a course outline (a Zipf-chosen course of 1000 with its lessons and instructor),
   each through a router with the cache off and one with it on and warm, in alternating
   rounds: req/s and p99;
2. the hit ratio of course outlines drawn from a Zipf distribution (s = 1.1), from a
   cold cache;
3. the time from an invalidation message (published on Redis) to the entry being gone at
   two routers: the routers' own measure (`router_entity_cache_invalidation_delay_seconds`,
   from the message's `at`) and the outside one (until both answer the new value).

Usage: .venv/bin/python bench/cache.py [--seconds 5] [--rounds 3] [--concurrency 20]
(aiohttp, the `bench` extra, drives the load)

The subgraphs (graphql-core, one process; each request waits `--subgraph-ms`, 2 ms by
default, standing for its database) answer `Cache-Control: max-age=60, public`. Redis,
the subgraphs and three routers (`router serve`: cache off, cache on, a second cache-on
replica) run as processes of their own on this machine's cores."""

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import redis

from common.infra.ports import free_port
from common.infra.redis import RedisServer
from router.composition.api import compose
from router.composition.subgraph import SubgraphInput

ROOT = Path(__file__).resolve().parent.parent
COURSES = 1000
INSTRUCTORS = 50
PAGE = "query Page { courses(first: 20) { id title category instructor { id name } } }"
OUTLINE = (
    "query Outline($id: ID!) { course(id: $id) { id title category lessons { id title } "
    "instructor { id name } } }"
)
POLICY = "max-age=60, public"
LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])'
CATALOG = """
type Query { courses(first: Int!): [Course!]! course(id: ID!): Course }
type Course @key(fields: "id") {
  id: ID! title: String! category: String! lessons: [Lesson!]! instructor: User!
}
type Lesson { id: ID! title: String! }
type User @key(fields: "id", resolvable: false) { id: ID! }
"""
USERS = """
type Query { userCount: Int }
type User @key(fields: "id") { id: ID! name: String! }
"""
CHANNEL = "lms:cache:invalidate"


def _strip(sdl: str) -> str:
    return sdl.replace(' @key(fields: "id", resolvable: false)', "").replace(
        ' @key(fields: "id")', ""
    )


def _course(number: int, titles: dict[int, str]) -> dict[str, Any]:
    return {
        "id": f"c{number}",
        "title": titles.get(number, f"Course {number}"),
        "category": ("data", "web", "design", "business")[number % 4],
        "lessons": [{"id": f"c{number}-l{n}", "title": f"Lesson {n}"} for n in range(12)],
        "instructor": {"id": f"u{number % INSTRUCTORS}"},
    }


def serve_subgraphs(port: int, delay: float) -> None:
    """The bench's subgraphs, at /catalog/graphql and /users/graphql (a process of its own);
    POST /titles {"n": title} renames a course."""
    import uvicorn
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from tests.integration.router.subgraphs import Subgraph, subgraphs_app

    titles: dict[int, str] = {}

    def number(course_id: str) -> int:
        return int(course_id.removeprefix("c"))

    catalog = Subgraph(
        _strip(CATALOG),
        root={
            "courses": lambda first: [_course(n, titles) for n in range(first)],
            "course": lambda id: _course(number(id), titles),
        },
        delay=delay,
        cache_control=POLICY,
    )
    users = Subgraph(
        _strip(USERS),
        references={"User": lambda rep: {"id": rep["id"], "name": f"Instructor {rep['id']}"}},
        delay=delay,
        cache_control=POLICY,
    )
    app = subgraphs_app({"catalog": catalog, "users": users})

    async def rename(request: Request) -> JSONResponse:
        for key, value in (await request.json()).items():
            titles[int(key)] = value
        return JSONResponse({})

    app.router.routes.append(Route("/titles", rename, methods=["POST"]))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@contextlib.contextmanager
def _process(command: list[str], health: str) -> Iterator[None]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(health, timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{command[:4]} did not start")
            time.sleep(0.1)
        yield
    finally:
        process.terminate()
        process.wait(10)


def _router(supergraph: Path, config: dict[str, Any], scratch: Path) -> tuple[list[str], str]:
    port = free_port()
    config_file = scratch / f"router-{port}.yaml"
    quiet = {"exporters": {"logging": {"access_log": {"enabled": False}}}}
    config_file.write_text(json.dumps({**config, "telemetry": quiet}))
    command = [sys.executable, "-m", "router", "serve", "--supergraph", str(supergraph)]
    command += ["--config", str(config_file), "--port", str(port), "--log-level", "WARNING"]
    return command, f"http://127.0.0.1:{port}"


def _zipf(n: int, s: float, rng: random.Random) -> list[int]:
    weights = [1 / (k**s) for k in range(1, n + 1)]
    return rng.choices(range(n), weights=weights, k=200_000)


async def _load(
    url: str, bodies: Iterator[dict[str, Any]], seconds: float, concurrency: int
) -> tuple[float, list[float]]:
    """A closed loop of `concurrency` clients (aiohttp: httpx's pool costs more CPU than the
    router under this load, bench/README.md)."""
    import aiohttp

    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                async with session.post(f"{url}/graphql", json=next(bodies)) as answer:
                    text = await answer.text()
                if answer.status != 200 or '"errors"' in text:
                    raise SystemExit(f"bad answer: {text[:300]}")
                latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(latencies) / (time.perf_counter() - began), latencies


def _metric(url: str, name: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and not line.startswith("#")
    )


def _bodies(query: str, courses: list[int] | None) -> Iterator[dict[str, Any]]:
    index = 0
    while True:
        if courses is None:
            yield {"query": query}
        else:
            yield {"query": query, "variables": {"id": f"c{courses[index % len(courses)]}"}}
            index += 1


def _compare(
    label: str, off: str, on: str, body: Iterator[dict[str, Any]], args: argparse.Namespace
) -> None:
    rows: dict[str, list[tuple[float, list[float]]]] = {"off": [], "on": []}
    for url in (off, on):  # warm-up (and, for `on`, a warm cache)
        asyncio.run(_load(url, body, 2, args.concurrency))
    for _ in range(args.rounds):
        for name, url in (("off", off), ("on", on)):
            rows[name].append(asyncio.run(_load(url, body, args.seconds, args.concurrency)))
    result = {}
    for name, runs in rows.items():
        rps = statistics.median(r for r, _ in runs)
        p99 = statistics.quantiles([x for _, lat in runs for x in lat], n=100)[98] * 1000
        result[name] = (rps, p99)
        print(f"| {label} | cache {name} | {rps:.1f} | {p99:.1f} |")
    (off_rps, off_p99), (on_rps, on_p99) = result["off"], result["on"]
    print(f"| {label} | on / off | x{on_rps / off_rps:.2f} | x{on_p99 / off_p99:.2f} |")


def _hit_ratio(on: str, client: redis.Redis, args: argparse.Namespace) -> None:
    from router.cache.invalidation import message  # (bench/cache_off_cost.py runs older trees)

    client.publish(CHANNEL, message(None, None, "bench: cold cache"))
    time.sleep(0.5)  # (the purge is applied asynchronously; the ratio is read after it)
    hits, misses = (
        _metric(on, 'router_entity_cache_lookups_total{result="hit"}'),
        _metric(on, 'router_entity_cache_lookups_total{result="miss"}'),
    )
    courses = _zipf(COURSES, 1.1, random.Random(28))
    asyncio.run(_load(on, _bodies(OUTLINE, courses), args.seconds * 2, args.concurrency))
    hits = _metric(on, 'router_entity_cache_lookups_total{result="hit"}') - hits
    misses = _metric(on, 'router_entity_cache_lookups_total{result="miss"}') - misses
    print(
        f"Zipf(1.1) over {COURSES} courses, {args.seconds * 2:.0f} s from a cold cache: "
        f"hit ratio {hits / (hits + misses):.3f} ({hits:.0f} hits, {misses:.0f} misses)"
    )


def _invalidation(routers: list[str], subgraphs: str, client: redis.Redis, times: int) -> None:
    from router.cache.invalidation import message

    outside: list[float] = []
    delay = "router_entity_cache_invalidation_delay_seconds"
    before = [(_metric(r, f"{delay}_sum"), _metric(r, f"{delay}_count")) for r in routers]
    for attempt in range(times):
        course = 500 + attempt
        body = {"query": OUTLINE, "variables": {"id": f"c{course}"}}
        for router in routers:  # each holds it
            httpx.post(f"{router}/graphql", json=body)
        title = f"Renamed {attempt}"
        httpx.post(f"{subgraphs}/titles", json={str(course): title})
        published = time.perf_counter()
        client.publish(CHANNEL, message("Course", {"id": f"c{course}"}, "bench"))
        pending = set(routers)
        while pending:
            for router in list(pending):
                answer = httpx.post(f"{router}/graphql", json=body).json()
                if answer["data"]["course"]["title"] == title:
                    pending.discard(router)
        outside.append(time.perf_counter() - published)
    inside = [
        (_metric(r, f"{delay}_sum") - s) / max(1.0, _metric(r, f"{delay}_count") - c)
        for r, (s, c) in zip(routers, before, strict=True)
    ]
    print(
        f"invalidation, {times} messages, 2 routers: inside the routers mean "
        f"{', '.join(f'{x * 1000:.2f}' for x in inside)} ms; outside (until both answer the "
        f"new title) median {statistics.median(outside) * 1000:.1f} ms, "
        f"max {max(outside) * 1000:.1f} ms"
    )


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--seconds", type=float, default=5.0)
    options.add_argument("--rounds", type=int, default=3)
    options.add_argument("--concurrency", type=int, default=20)
    options.add_argument("--subgraph-ms", type=float, default=2.0)
    options.add_argument("--serve-subgraphs", type=int, help=argparse.SUPPRESS)
    args = options.parse_args()
    if args.serve_subgraphs:
        serve_subgraphs(args.serve_subgraphs, args.subgraph_ms / 1000)
        return 0
    with tempfile.TemporaryDirectory(prefix="lms-bench-cache-") as folder:
        scratch = Path(folder)
        port = free_port()
        subgraphs = f"http://127.0.0.1:{port}"
        composed = compose(
            [
                SubgraphInput("catalog", f"{subgraphs}/catalog/graphql", LINK + CATALOG),
                SubgraphInput("users", f"{subgraphs}/users/graphql", LINK + USERS),
            ]
        )
        assert composed.supergraph_sdl is not None, composed.errors
        supergraph = scratch / "supergraph.graphql"
        supergraph.write_text(composed.supergraph_sdl)
        with RedisServer(scratch / "redis", free_port(), fast=True) as store:
            cache = {
                "preview_entity_cache": {
                    "enabled": True,
                    "subgraph": {"all": {"redis": {"urls": [store.url]}}},
                }
            }
            off_cmd, off = _router(supergraph, {}, scratch)
            on_cmd, on = _router(supergraph, cache, scratch)
            on2_cmd, on2 = _router(supergraph, cache, scratch)
            serve = [sys.executable, __file__, "--serve-subgraphs", str(port)]
            serve += ["--subgraph-ms", str(args.subgraph_ms)]
            with (
                _process(serve, f"{subgraphs}/catalog/health"),
                _process(off_cmd, f"{off}/health"),
                _process(on_cmd, f"{on}/health"),
                _process(on2_cmd, f"{on2}/health"),
                redis.Redis.from_url(store.url) as client,
            ):
                print(
                    f"{args.concurrency} connections, {args.rounds} alternating rounds of "
                    f"{args.seconds:.0f} s; subgraphs wait {args.subgraph_ms} ms per request\n"
                )
                print("| query | router | req/s (median round) | p99 ms |")
                print("| --- | --- | ---: | ---: |")
                _compare("catalogue page", off, on, _bodies(PAGE, None), args)
                zipf = _zipf(COURSES, 1.1, random.Random(1))
                _compare("course outline (Zipf)", off, on, _bodies(OUTLINE, zipf), args)
                print()
                _hit_ratio(on, client, args)
                _invalidation([on, on2], subgraphs, client, 50)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
