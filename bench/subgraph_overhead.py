"""What Strawberry costs a subgraph over graphql-core, and where a `{ me { … } }` request's
time goes, measured in one run.

Starts PostgreSQL and Redis from the local binaries in a temporary folder, migrates and seeds
the users subgraph, then:

1. In process (no network, the ASGI app called directly), this thread's CPU time per
   request: the subgraph as served (Starlette + Strawberry, POST /graphql) against
   graphql-core executing Strawberry's own graphql-core schema (`schema._schema`: same
   resolvers, same context building, same Starlette app and middleware, the document parsed
   and validated once) at POST /graphql-core; `schema.execute` against graphql-core's
   `execute`; and the parts: token check, database, serialisation. Each tree (this one, and
   `--base DIR`) is measured in a child process running its own code, the children taking
   turns `--rounds` times. `--profile` prints cProfile's top functions of the served path.
2. Over HTTP with wrk (`--connections` connections, one thread): the base's subgraph
   (`lms serve users` of that checkout), this tree's, and this tree's graphql-core route,
   each server its own process, rounds interleaved so that the machine's other load falls
   on all of them alike.

Usage: .venv/bin/python bench/subgraph_overhead.py [--base ../wt-base] [--seconds 10]
       [--rounds 3] [--connections 20] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from graphql import ExecutionResult, execute, parse, validate
from servers import LOGIN, ROOT, serving, sign_in, users_platform
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from common.graphql.app import ServiceGraphQL
from common.infra.ports import free_port
from common.settings import Settings

# A profile page: the account's own fields, one of them a nested object; one SQL statement.
QUERY = (
    "{ me { id name email emailVerified roles bio locale timezone createdAt"
    " preferences { theme reducedMotion } } }"
)
CORE_PATH = "/graphql-core"
STUCK_SECONDS = 300.0
SERVED = "served: Starlette + Strawberry, POST /graphql"
CORE = "graphql-core, same app, context and resolvers, POST /graphql-core"


# ---- graphql-core behind the same app -------------------------------------------------


def _view(app: Starlette) -> ServiceGraphQL:
    """The subgraph's GraphQL endpoint (Strawberry's view)."""
    for route in app.routes:
        if isinstance(route, Route) and isinstance(route.endpoint, ServiceGraphQL):
            return route.endpoint
    raise LookupError("no GraphQL route")


def add_graphql_core_route(app: Starlette) -> None:
    """POST /graphql-core: Strawberry's graphql-core schema executed by graphql-core itself,
    the context built by the subgraph's own view, documents parsed and validated once."""
    view = _view(app)
    schema = view.schema._schema  # type: ignore[attr-defined]
    documents: dict[str, Any] = {}

    async def graphql_core(request: Request) -> Response:
        body = orjson.loads(await request.body())
        query = body["query"]
        document = documents.get(query)
        if document is None:
            document = parse(query)
            if errors := validate(schema, document):
                return Response(orjson.dumps({"errors": [e.formatted for e in errors]}), 400)
            documents[query] = document
        response = Response(media_type="application/json")
        context = await view.get_context(request, response)
        result = execute(
            schema,
            document,
            context_value=context,
            variable_values=body.get("variables"),
            operation_name=body.get("operationName"),
        )
        if not isinstance(result, ExecutionResult):
            result = await result
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [error.formatted for error in result.errors]
        response.body = orjson.dumps(payload)
        response.init_headers()
        return response

    app.router.routes.insert(0, Route(CORE_PATH, graphql_core, methods=["POST"]))


def _settle_collector() -> None:
    """What `lms serve` does to the collector after start-up, in either tree (older trees
    kept it in common.memory)."""
    try:
        from router.server.collector import settle_after_startup
    except ImportError:  # an older tree
        from common.memory import freeze_startup_objects as settle_after_startup  # type: ignore[no-redef,import-not-found]
    settle_after_startup()


def serve_with_core(port: int) -> None:
    """`lms serve users` plus the graphql-core route (run as this script's child)."""
    import uvicorn

    from common.telemetry.logging import configure_logging
    from lms import services
    from router.server.http_protocol import uvicorn_options

    settings = Settings.from_env()
    configure_logging("users", settings.log_level)
    app = services.create_app("users", settings)
    add_graphql_core_route(app)
    _settle_collector()
    uvicorn.run(app, host="127.0.0.1", port=port, **uvicorn_options())


# ---- in process -----------------------------------------------------------------------


async def _asgi_post(
    app: Starlette, path: str, body: bytes, headers: list[tuple[bytes, bytes]]
) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-length", str(len(body)).encode()), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8081),
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> MutableMapping[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def _per_call(
    calls: Sequence[Callable[[], Awaitable[object]]], seconds: float, slices: int = 10
) -> list[float]:
    """This process's CPU microseconds per call of each (PostgreSQL's and the machine's other
    work left out), the median of `slices` slices of each, the slices interleaved."""
    for call in calls:
        for _ in range(20):
            await call()
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(slices):
        for call, taken in zip(calls, times, strict=True):
            count = 0
            began, cpu = time.perf_counter(), time.thread_time()
            while time.perf_counter() - began < seconds / slices / len(calls):
                await call()
                count += 1
            taken.append((time.thread_time() - cpu) / count * 1e6)
    return [statistics.median(taken) for taken in times]


async def in_process(settings: Settings, seconds: float, profile: bool) -> None:
    from subgraphs.users.app import create_app

    app = create_app(settings)
    add_graphql_core_route(app)
    asyncio.get_running_loop().call_later(STUCK_SECONDS, _print_tasks)
    async with app.router.lifespan_context(app):
        json_headers = [(b"content-type", b"application/json"), (b"host", b"users")]
        _, answer = await _asgi_post(app, "/graphql", orjson.dumps({"query": LOGIN}), json_headers)
        token = orjson.loads(answer)["data"]["login"]["accessToken"]
        headers = [*json_headers, (b"authorization", f"Bearer {token}".encode())]
        body = orjson.dumps({"query": QUERY})
        served = await _asgi_post(app, "/graphql", body, headers)
        core = await _asgi_post(app, CORE_PATH, body, headers)
        if served[0] != 200 or orjson.loads(served[1]) != orjson.loads(core[1]):
            raise SystemExit(f"the two paths answer differently: {served} {core}")
        data = orjson.loads(served[1])
        if "errors" in data:
            raise SystemExit(f"errors: {data}")

        runtime = app.state.runtime
        service = app.state.service
        principal = await runtime.verifier.verify(token)

        async def served_call() -> object:
            return await _asgi_post(app, "/graphql", body, headers)

        async def core_call() -> object:
            return await _asgi_post(app, CORE_PATH, body, headers)

        async def token_call() -> object:
            return await runtime.verifier.verify(token)

        async def database_call() -> object:
            return await service.users.me(principal)

        async def json_call() -> object:
            return json.dumps(data).encode()

        async def orjson_call() -> object:
            return orjson.dumps(data)

        view = _view(app)
        request = Request(
            {
                "type": "http",
                "method": "POST",
                "path": "/graphql",
                "headers": headers,
                "client": ("127.0.0.1", 40000),
                "app": app,
                "query_string": b"",
            }
        )
        document = parse(QUERY)

        async def strawberry_execute() -> object:
            context = await view.get_context(request, Response())
            result = await view.schema.execute(QUERY, context_value=context)
            assert not result.errors, result.errors
            return result

        async def core_execute() -> object:
            context = await view.get_context(request, Response())
            result = execute(view.schema._schema, document, context_value=context)  # type: ignore[attr-defined]
            if not isinstance(result, ExecutionResult):
                result = await result
            assert not result.errors, result.errors
            return result

        labels = (
            SERVED,
            CORE,
            "Strawberry's schema.execute (context built, no HTTP)",
            "graphql-core's execute (context built, no HTTP)",
            "token check (verify the bearer token)",
            "database (`me`'s one statement, a session)",
            "serialisation, json module",
            "serialisation, orjson",
        )
        calls = [
            served_call,
            core_call,
            strawberry_execute,
            core_execute,
            token_call,
            database_call,
            json_call,
            orjson_call,
        ]
        rows = list(zip(labels, await _per_call(calls, seconds), strict=True))
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(2000):
                await served_call()
            profiler.disable()
            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.sort_stats("tottime").print_stats(os.environ.get("PROFILE_FILTER", ""), 45)
        # The answer, then out at once: leaving the lifespan can wait on Redis for a while
        # (the revocation list's subscription), which says nothing about a request's cost.
        print(json.dumps(dict(rows)), flush=True)
        os._exit(0)
    raise AssertionError("unreachable")


def _print_tasks() -> None:
    """Where each task waits, should the measurement not end (it must not hang silently)."""
    for task in asyncio.all_tasks():
        task.print_stack(file=sys.stderr)
    sys.stderr.flush()
    os._exit(1)


def in_process_table(env: dict[str, str], base: Path | None, seconds: float, rounds: int) -> str:
    """The in-process figures of each tree (this one, and `base`), each measured in a child
    process with that tree's code, the children taking turns `rounds` times."""
    trees = {"this tree": ROOT, **({"base": base} if base is not None else {})}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for _ in range(rounds):
        for name, tree in trees.items():
            child = subprocess.run(
                [sys.executable, str(Path(__file__)), "--measure-in-process", str(seconds)],
                env={**env, "PYTHONPATH": str(tree)},
                cwd=tree,
                check=True,
                stdout=subprocess.PIPE,
                text=True,
            )
            runs[name].append(json.loads(child.stdout.splitlines()[-1]))
    names = list(reversed(trees))  # base first
    lines = [
        "| in process, one request at a time: CPU µs per request (median of rounds) | "
        + " | ".join(names)
        + " |",
        "| --- |" + " ---: |" * len(names),
    ]
    medians = {
        name: {
            label: statistics.median(run[label] for run in runs[name]) for label in runs[name][0]
        }
        for name in names
    }
    for label in medians[names[0]]:
        lines.append(f"| {label} | " + " | ".join(f"{medians[n][label]:.0f}" for n in names) + " |")
    overhead = {n: medians[n][SERVED] - medians[n][CORE] for n in names}
    lines.append(
        "| **Strawberry's overhead: served minus graphql-core** | "
        + " | ".join(f"**{overhead[n]:.0f}**" for n in names)
        + " |"
    )
    return "\n".join(lines)


# ---- over HTTP --------------------------------------------------------------------------


def _wrk(
    url: str, token: str, seconds: float, connections: int, script: Path, *, strict: bool = True
) -> float:
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps({'query': QUERY}))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
        # any answer but a 200 counts as an error in wrk's summary
    )
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:.0f}s", "--timeout", "10s"]
    out = subprocess.run(
        [*command, "-s", str(script), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if strict and ("Non-2xx" in out or "Socket errors" in out):
        raise SystemExit(f"wrk saw failures at {url}:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise SystemExit(f"no rate in wrk's output:\n{out}")
    return float(match.group(1))


def over_http(
    env: dict[str, str], base: Path | None, seconds: float, rounds: int, connections: int
) -> str:
    this_port, base_port = free_port(), free_port()
    targets = {
        "this tree, Strawberry (POST /graphql)": f"http://127.0.0.1:{this_port}/graphql",
        "this tree, graphql-core (POST /graphql-core)": (
            f"http://127.0.0.1:{this_port}{CORE_PATH}"
        ),
    }
    with (
        tempfile.TemporaryDirectory() as folder,
        serving(
            [str(Path(__file__)), "--serve-core", str(this_port)],
            {**env, "PYTHONPATH": str(ROOT)},
            f"http://127.0.0.1:{this_port}/health",
        ),
    ):
        base_server: Any = _nothing()
        if base is not None:
            targets = {
                "base (main), Strawberry (POST /graphql)": (
                    f"http://127.0.0.1:{base_port}/graphql"
                ),
                **targets,
            }
            base_env = {**env, "PYTHONPATH": str(base), "LMS_USERS_PORT": str(base_port)}
            base_server = serving(
                ["-m", "lms", "serve", "users"],
                base_env,
                f"http://127.0.0.1:{base_port}/health",
                cwd=base,
            )
        with base_server:
            token = sign_in(f"http://127.0.0.1:{this_port}/graphql")
            script = Path(folder) / "post.lua"
            for url in targets.values():  # warm-up
                _wrk(url, token, 5, connections, script, strict=False)
            rates: dict[str, list[float]] = {label: [] for label in targets}
            for _ in range(rounds):
                for label, url in targets.items():
                    rates[label].append(_wrk(url, token, seconds, connections, script))
    first = next(iter(rates.values()))
    lines = [
        f"| over HTTP, wrk -c{connections}, {rounds} rounds of {seconds:.0f} s | req/s (median) | "
        "each round | ratio to the first row |",
        "| --- | ---: | --- | ---: |",
    ]
    for label, values in rates.items():
        ratio = statistics.median(values) / statistics.median(first)
        runs = ", ".join(f"{value:.0f}" for value in values)
        lines.append(f"| {label} | {statistics.median(values):.0f} | {runs} | x{ratio:.2f} |")
    return "\n".join(lines)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--base", type=Path, help="another checkout to compare (today's main)")
    options.add_argument("--seconds", type=float, default=10.0)
    options.add_argument("--rounds", type=int, default=3)
    options.add_argument("--connections", type=int, default=20)
    options.add_argument("--profile", action="store_true")
    options.add_argument("--no-http", action="store_true", help="the in-process part only")
    options.add_argument("--no-in-process", action="store_true", help="the HTTP part only")
    options.add_argument("--serve-core", type=int, help=argparse.SUPPRESS)
    options.add_argument("--measure-in-process", type=float, help=argparse.SUPPRESS)
    args = options.parse_args()
    if args.serve_core:
        serve_with_core(args.serve_core)
        return 0
    if args.measure_in_process:  # prints its figures as JSON and exits
        asyncio.run(in_process(Settings.from_env(), args.measure_in_process, args.profile))
    with users_platform(users=free_port()) as env:
        print(f"query: {QUERY}")
        print(time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.getloadavg())
        if not args.no_in_process:
            print(in_process_table(env, args.base, args.seconds, args.rounds))
        if not args.no_http:
            print(over_http(env, args.base, args.seconds, args.rounds, args.connections))
        print("load average after:", os.getloadavg())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
