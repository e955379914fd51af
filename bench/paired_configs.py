"""Router configurations against each other in one process, so that the machine's drift
cancels: rounds of the peer benchmark's query (60 requests, 10 at a time) alternate between
a router per configuration, each round's CPU time per request is measured, and the ratio of
each configuration to the first is the median over the paired rounds. A null application
answering the same body measures what the client itself costs, taken off every round.

Usage: .venv/bin/python bench/paired_configs.py [--rounds 60] BASE OTHER... (names of
bench/configs/*.yaml; NAME+tracing-1 is NAME with tracing-1.yaml's tracing, 1 % sampled,
exported to a port that discards; one tracing configuration per run). It starts the peer
benchmark's Node subgraphs (the rig that bench/peer_gateways.sh installs in $RIG,
/tmp/peer-bench) and a Redis of its own; the router runs pinned to one core, the subgraphs
to the other. Logs are formatted and written as a served router's are, to /dev/null.

On this 2-core VM, runs of the same pair spread by about ±4 points: quote several."""

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "bench" / "configs"
RIG = Path(os.environ.get("RIG", "/tmp/peer-bench"))
ROUND = 60
CONCURRENCY = 10
HEADERS = {
    "content-type": "application/json",
    "origin": "http://localhost:3000",
    "accept-encoding": "identity",
}
TRACED = "+"  # NAME+tracing-1: NAME with bench/configs/tracing-1.yaml's tracing

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def _servers(scratch: Path) -> Iterator[None]:
    """The rig's Node subgraphs (on the other core) and a Redis, for as long as the run."""
    if not (RIG / "node_modules").is_dir():
        sys.exit(f"no peer-bench rig at {RIG}: run bash bench/peer_gateways.sh once")
    redis_port = _free_port()
    os.environ["BENCH_REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    os.environ["BENCH_ZIPKIN_URL"] = "http://127.0.0.1:9/api/v2/spans"  # discard port
    started = [
        subprocess.Popen(
            ["taskset", "-c", "0", "node", "subgraphs/server.mjs"],
            cwd=RIG,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [
                "redis-server",
                *("--port", str(redis_port), "--bind", "127.0.0.1", "--dir", str(scratch)),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
        ),
    ]
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get("http://127.0.0.1:4200/health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    sys.exit("the rig's subgraphs did not start (is port 4200 free?)")
                time.sleep(0.2)
        yield
    finally:
        for process in started:
            process.terminate()
            process.wait(10)


async def _client(app: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5555))
    return httpx.AsyncClient(transport=transport, base_url="http://router")


@contextlib.asynccontextmanager
async def _routers(names: list[str]) -> AsyncIterator[dict[str, tuple[httpx.AsyncClient, bool]]]:
    from router import telemetry
    from router.config.loader import load_config
    from router.server import create_app

    supergraph = (RIG / "supergraph.graphql").read_text()
    clients: dict[str, tuple[httpx.AsyncClient, bool]] = {}
    async with contextlib.AsyncExitStack() as stack:
        tracings = {name.partition(TRACED)[2] for name in names} - {""}
        if len(tracings) > 1:
            sys.exit("one tracing configuration per run (a process has one tracer provider)")
        for name in names:
            base, traced, tracing = name.partition(TRACED)
            config = load_config(CONFIGS / f"{base}.yaml")
            if traced:
                exporters = load_config(CONFIGS / f"{tracing}.yaml").telemetry.exporters
                telemetry.start_tracing(exporters.tracing)
            app = create_app(supergraph, config=config)
            await stack.enter_async_context(app.router.lifespan_context(app))
            clients[name] = (await _client(app), bool(traced))
        yield clients


async def _burst(client: httpx.AsyncClient, body: bytes, count: int) -> None:
    async def one(requests: int) -> None:
        for _ in range(requests):
            answer = await client.post("/graphql", content=body, headers=HEADERS)
            if answer.status_code != 200 or b'"errors"' in answer.content[:200]:
                sys.exit(f"the router answered {answer.status_code}: {answer.text[:300]}")

    await asyncio.gather(*(one(count // CONCURRENCY) for _ in range(CONCURRENCY)))


def _null_app(answer: bytes) -> Callable[[dict[str, Any], Receive, Send], Awaitable[None]]:
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        start = {"type": "http.response.start", "status": 200, "headers": []}
        await send(start)
        await send({"type": "http.response.body", "body": answer})

    return app


async def measure(names: list[str], rounds: int) -> dict[str, list[float]]:
    """CPU milliseconds per request of each configuration's rounds, and the null app's."""
    from router import telemetry

    body = (RIG / "body.json").read_bytes()
    async with _routers(names) as routers:
        first = await routers[names[0]][0].post("/graphql", content=body, headers=HEADERS)
        runs = {**routers, "null": (await _client(_null_app(first.content)), False)}
        for client, traced in runs.values():  # warm every cache up
            telemetry._Switch.on = traced
            await _burst(client, body, 50)
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(rounds):
            for name, (client, traced) in runs.items():
                telemetry._Switch.on = traced  # tracing on only for its own rounds
                started = time.process_time()
                await _burst(client, body, ROUND)
                times[name].append((time.process_time() - started) / ROUND * 1000)
        return times


def report(names: list[str], times: dict[str, list[float]]) -> None:
    null = times["null"]
    base = names[0]
    print(f"client's own cost: {statistics.median(null):.3f} ms/request (taken off)")
    print(f"{'configuration':32} {'CPU ms/req':>10} {'vs ' + base:>16}")
    for name in names:
        net = [t - n for t, n in zip(times[name], null, strict=True)]
        paired = [(t - n) / (b - n) for t, b, n in zip(times[name], times[base], null, strict=True)]
        change = (statistics.median(paired) - 1) * 100
        print(f"{name:32} {statistics.median(net):10.2f} {change:+15.1f}%")


def _access_log_to_nowhere() -> None:
    """Logs formatted and written as a served router's are (access lines included), to a
    file that discards them."""
    from router.logs import log_json_to_stderr

    log_json_to_stderr("INFO")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 (for the whole run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="bench/configs names; the first is the base")
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})  # the router's core; the subgraphs have core 0
    _access_log_to_nowhere()
    with tempfile.TemporaryDirectory() as scratch, _servers(Path(scratch)):
        times = asyncio.run(measure(args.names, args.rounds))
    report(args.names, times)


if __name__ == "__main__":
    main()
