"""The router's CPU per request outside execution: the peer benchmark's request through the
router's ASGI app (every middleware with the default configuration, the access log written
as `serve` writes it, to /dev/null here), the gateway's `execute` replaced by the peer
query's recorded 87.6 KB answer, so that what is measured is HTTP in and out: reading and
parsing the body, the policies, the access log, the metrics, the response's JSON.

Usage:
    .venv/bin/python bench/router_http.py [--rounds 20] [--tree DIR]...   # paired ratios
    .venv/bin/python bench/router_http.py --profile [tottime|cumulative]  # cProfile
    .venv/bin/python bench/router_http.py --served [--rounds 6] [--seconds 5] [--tree DIR]...

--served: the same stubbed app served as `router serve` serves it (uvicorn with the router's
protocol and options, uvloop) on loopback, `wrk` (the rig's post.lua, 50 connections) on
core 0: the process's CPU per request answered, HTTP parsing and socket writes included;
rounds of --seconds alternate between the trees' servers (each on core 1). With --replayed,
the whole router instead (execution included, compiled where the tree is), its subgraphs'
answers recorded once and replayed as bench/router_replay.py replays them.

Each tree runs in a process of its own pinned to core 1, pure Python (LMS_ROUTER_NATIVE=0:
none of this path is compiled); rounds of 500 requests, one at a time, alternate between
the processes (the collector set as `serve` sets it); a tree's figure is the median of its
rounds, its ratio the median of the paired rounds' (2.00x: twice the first tree's CPU).
Needs the rig bench/peer_gateways.sh installs ($RIG, /tmp/peer-bench); no subgraph runs."""

import argparse
import asyncio
import cProfile
import json
import logging
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop  # (uvicorn[standard]'s, as `serve` runs on it)
from router_replay import _post, paired

ROOT = Path(__file__).resolve().parent.parent
RIG = Path(os.environ.get("RIG", "/tmp/peer-bench"))
ROUND = 500


def worker(profile: str | None) -> None:
    """One tree's router: warms up, then runs a round per line read, printing its CPU µs."""
    import orjson

    from router.gateway.gateway import Gateway, GraphQLRequest, GraphQLResponse
    from router.logs import log_json_to_stderr
    from router.policies.authentication import Caller
    from router.server import create_app
    from router.server.collector import settle_after_startup

    answer = orjson.loads((RIG / "bodies" / "full-response.json").read_bytes())
    body = (RIG / "body.json").read_bytes()

    async def execute(self: Gateway, request: GraphQLRequest, caller: Caller | None = None) -> Any:
        self.document(request.query)  # (the access log names the operation from it)
        return GraphQLResponse(200, answer)

    Gateway.execute = execute  # type: ignore[method-assign]
    log_json_to_stderr("WARNING")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 (for the process's life)

    async def run() -> None:
        app = create_app((RIG / "supergraph.graphql").read_text())
        async with app.router.lifespan_context(app):
            for _ in range(200):
                status, _answer = await _post(app, body)
                assert status == 200, _answer[:300]
            settle_after_startup()  # the collector as `serve` sets it
            if profile is not None:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(4 * ROUND):
                    await _post(app, body)
                profiler.disable()
                stats = pstats.Stats(profiler).strip_dirs().sort_stats(profile)
                stats.print_stats(int(os.environ.get("PROFILE_LINES", "45")))
                return
            print("ready", flush=True)
            for _ in sys.stdin:
                started = time.process_time()
                for _ in range(ROUND):
                    await _post(app, body)
                print(f"{(time.process_time() - started) / ROUND * 1e6:.2f}", flush=True)

    asyncio.run(run())


def served_worker(answers_file: Path | None) -> None:
    """One tree's stubbed router under uvicorn: prints "ready PORT", then for each "start" /
    "stop" pair of lines read, the CPU µs per request answered between them."""
    import orjson
    import uvicorn

    from common.infra.ports import free_port
    from router.gateway.gateway import Gateway, GraphQLRequest, GraphQLResponse
    from router.logs import log_json_to_stderr
    from router.policies.authentication import Caller
    from router.server import create_app
    from router.server.collector import settle_after_startup
    from router.server.http_protocol import uvicorn_options

    answer = orjson.loads((RIG / "bodies" / "full-response.json").read_bytes())

    async def execute(self: Gateway, request: GraphQLRequest, caller: Caller | None = None) -> Any:
        self.document(request.query)
        return GraphQLResponse(200, answer)

    if answers_file is None:
        Gateway.execute = execute  # type: ignore[method-assign]
    log_json_to_stderr("WARNING")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 (for the process's life)

    recorded = json.loads(answers_file.read_text()) if answers_file is not None else {}

    async def run() -> None:
        port = free_port()
        if answers_file is None:
            app = create_app((RIG / "supergraph.graphql").read_text())
        else:  # the whole router, its subgraphs' answers replayed (router_replay.py's)
            from router_replay import _app_with, _Recorded

            _Recorded.answers = {k: v.encode() for k, v in recorded.items()}
            app = _app_with(_Recorded)
        options = {**uvicorn_options(), "log_config": None}
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **options))
        task = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 (uvicorn's Server has no event for it)
            await asyncio.sleep(0.05)
        settle_after_startup()
        print(f"ready {port}", flush=True)
        loop = asyncio.get_running_loop()
        while (await loop.run_in_executor(None, sys.stdin.readline)).strip():
            started, answered = time.process_time(), server.server_state.total_requests
            print("ok", flush=True)
            await loop.run_in_executor(None, sys.stdin.readline)
            count = max(server.server_state.total_requests - answered, 1)
            print(f"{(time.process_time() - started) / count * 1e6:.2f} {count}", flush=True)
        server.should_exit = True
        await task

    uvloop.run(run())


def served(trees: list[Path], rounds: int, seconds: int, answers_file: Path | None) -> None:
    import statistics
    import subprocess

    from router_replay import _describe

    workers, ports = [], []
    for tree in trees:
        process = subprocess.Popen(
            ["taskset", "-c", "1", sys.executable, __file__, "--served-worker"],
            env={
                **os.environ,
                "PYTHONPATH": str(tree),
                # the replayed router as `serve` runs it: compiled when the tree is
                **({"LMS_ROUTER_NATIVE": "0"} if answers_file is None else {}),
                "SERVED_ANSWERS": str(answers_file or ""),
            },
            cwd=tree,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        ready = process.stdout.readline().split()
        if ready[:1] != ["ready"]:
            sys.exit(f"a worker did not start: {ready!r}")
        workers.append(process)
        ports.append(int(ready[1]))

    def load(port: int, duration: int) -> None:
        subprocess.run(
            [
                "taskset",
                "-c",
                "0",
                "wrk",
                "-t1",
                "-c50",
                f"-d{duration}s",
                "-s",
                str(RIG / "post.lua"),
                f"http://127.0.0.1:{port}/graphql",
            ],
            env={**os.environ, "BODY_FILE": str(RIG / "body.json")},
            check=True,
            capture_output=True,
        )

    for port in ports:
        load(port, 3)  # warm-up
    times: list[list[float]] = [[] for _ in trees]
    for _ in range(rounds):
        for index, (process, port) in enumerate(zip(workers, ports, strict=True)):
            assert process.stdin is not None
            assert process.stdout is not None
            process.stdin.write("start\n")
            process.stdin.flush()
            assert process.stdout.readline().strip() == "ok"
            load(port, seconds)
            process.stdin.write("stop\n")
            process.stdin.flush()
            spent, count = process.stdout.readline().split()
            times[index].append(float(spent))
            print(f"  {_describe(trees[index])[:40]:40} {float(spent):8.1f} us/req ({count})")
    for process in workers:
        assert process.stdin is not None
        process.stdin.write("\n")
        process.stdin.close()
        process.wait(30)
    print(f"load average at the end: {os.getloadavg()}")
    print(f"{'tree':72} {'CPU us/req':>10} {'/ first':>8}")
    for tree, spent_times in zip(trees, times, strict=True):
        ratios = [t / b for b, t in zip(times[0], spent_times, strict=True)]
        median = statistics.median(spent_times)
        print(f"{_describe(tree):72} {median:10.1f} {statistics.median(ratios):7.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--tree", type=Path, action="append", default=[], help="another tree")
    parser.add_argument("--profile", nargs="?", const="tottime", help="cProfile, sorted so")
    parser.add_argument("--served", action="store_true", help="under uvicorn, loaded by wrk")
    parser.add_argument("--seconds", type=int, default=5, help="per --served round")
    parser.add_argument(
        "--replayed", action="store_true", help="--served: the whole router, answers replayed"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--served-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.served_worker:
        answers = os.environ.get("SERVED_ANSWERS")
        served_worker(Path(answers) if answers else None)
        return
    if args.worker or args.profile is not None:
        worker(args.profile)
        return
    if not (RIG / "body.json").is_file():
        sys.exit(f"no peer-bench rig at {RIG}: run bash bench/peer_gateways.sh once")
    trees = [ROOT, *(tree.resolve() for tree in args.tree)]
    if args.served and args.replayed:
        from router_replay import record

        with tempfile.TemporaryDirectory() as scratch:
            answers_file = Path(scratch) / "answers.json"
            record(answers_file)
            served(trees, args.rounds, args.seconds, answers_file)
        return
    if args.served:
        served(trees, args.rounds, args.seconds, None)
        return
    env = {"LMS_ROUTER_NATIVE": "0"}
    paired(__file__, ["--worker"], trees, args.rounds, env, unit="CPU us/req")


if __name__ == "__main__":
    main()
