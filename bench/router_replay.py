"""The router's own CPU per request, without the network: the peer benchmark's query replayed
in-process against recorded subgraph answers, so that what is measured is the router's work
(HTTP request in through its ASGI app, planning caches, execution, merging, completion,
JSON out) and only that.

Usage:
    .venv/bin/python bench/router_replay.py [--rounds 40] [--tree DIR]...   # paired ratios
    .venv/bin/python bench/router_replay.py --profile [tottime|cumulative]  # cProfile
                                                  # (PROFILE_LINES=90: more rows)
    .venv/bin/python bench/router_replay.py --breakdown [--tree DIR]        # CPU by part
    .venv/bin/python bench/router_replay.py --config bench/configs/bare.yaml ...  # not defaults
    .venv/bin/python bench/router_replay.py --configs A.yaml B.yaml ...  # this tree, paired

The answers are recorded once per run from the rig's Node subgraphs (bench/peer_gateways.sh
installs the rig in $RIG, /tmp/peer-bench), by each tree's router (their plans may differ),
each re-encoded as the bytes the replay decodes on every call, as the real client does. The
router logs as `serve --log-level WARNING` does (its access line per request), to /dev/null.
Each tree (this checkout, then every --tree, e.g. a worktree of an older commit) runs in a
process of its own, pinned to core 1, with the router's default configuration; rounds of 60
requests, one at a time (concurrent identical requests would share their subgraph fetches
through the deduplication layer, and the figure would be that sharing's, not the work of a
request; --concurrency N to see it), alternate between the processes, and each tree's CPU
per request is the median of its rounds, its CPU per request over the first tree's the
median of the paired rounds' ratios (2.00x: twice the first tree's CPU)."""

import argparse
import asyncio
import cProfile
import gc
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RIG = Path(os.environ.get("RIG", "/tmp/peer-bench"))
# where the rig's subgraphs listen while the answers are recorded (the rig's SUBGRAPH_PORT)
SUBGRAPH_PORT = int(os.environ.get("SUBGRAPH_PORT", "4200"))
ROUND = 60
CONCURRENCY = 1
HEADERS = [
    (b"host", b"router"),
    (b"content-type", b"application/json"),
    (b"accept-encoding", b"identity"),
]

Message = dict[str, Any]


def _key(service: str, payload: Mapping[str, Any]) -> str:
    return service + " " + json.dumps(payload, sort_keys=True, separators=(",", ":"))


class _Recorded:
    """A `Transport` that answers each subgraph request with the recorded bytes, decoded
    afresh on every call (the executor merges into what it is given)."""

    answers: dict[str, bytes] = {}
    length = 0  # of the router's answer

    def __init__(self, *_: Any, **__: Any) -> None:
        from router.transport.base import decode_answer

        self._decode = decode_answer

    async def send(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str], **_: Any
    ) -> dict[str, Any]:
        await asyncio.sleep(0)  # an answer arrives on a later turn of the loop, as over HTTP
        answer: dict[str, Any] = self._decode(service, 200, self.answers[_key(service, payload)])
        return answer

    async def send_multipart(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError

    async def aclose(self) -> None:
        pass


def _app_with(kind: Callable[..., Any], urls: dict[str, str] | None = None) -> Any:
    """The router's app on the rig's supergraph, its defaults, `kind` as its HTTP client."""
    import router.server.app as app_module
    from router.server import create_app

    app_module._transport_kind = lambda client: kind
    config = None
    if os.environ.get("REPLAY_CONFIG"):  # --config: a router.yaml instead of the defaults
        from router.config.loader import load_config

        config = load_config(Path(os.environ["REPLAY_CONFIG"]))
    return create_app((RIG / "supergraph.graphql").read_text(), urls, config=config)


async def _post(app: Any, body: bytes) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [*HEADERS, (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 5555),
        "server": ("127.0.0.1", 4000),
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client stays connected
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def _burst(app: Any, body: bytes, count: int, expected: bytes | None = None) -> None:
    """`count` requests, CONCURRENCY at a time; each answer compared with `expected` when given (as
    JSON), else only its status and length."""
    wanted = None if expected is None else json.loads(expected)

    async def one(requests: int) -> None:
        for _ in range(requests):
            status, answer = await _post(app, body)
            if wanted is not None and json.loads(answer) != wanted:
                sys.exit(f"the router answered otherwise: {answer[:300]!r}")
            if status != 200 or len(answer) != _Recorded.length:
                sys.exit(f"the router answered {status}: {answer[:300]!r}")

    concurrency = int(os.environ.get("REPLAY_CONCURRENCY", CONCURRENCY))
    await asyncio.gather(*(one(count // concurrency) for _ in range(concurrency)))


def record(answers_file: Path) -> None:
    """Every subgraph answer the query needs, from the rig's subgraphs (started here), added
    to those `answers_file` holds."""
    import orjson

    from router.transport.streams import StreamTransport

    answers: dict[str, bytes] = {}
    base = f"http://127.0.0.1:{SUBGRAPH_PORT}"

    class Recording(StreamTransport):
        async def send(
            self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str], **kw: Any
        ) -> dict[str, Any]:
            answer = await super().send(service, payload, headers, **kw)
            answers[_key(service, payload)] = orjson.dumps(answer)
            return answer

    async def run() -> None:
        names = ("accounts", "inventory", "products", "reviews")
        app = _app_with(Recording, {name: f"{base}/{name}" for name in names})
        async with app.router.lifespan_context(app):
            status, _ = await _post(app, (RIG / "body.json").read_bytes())
            assert status == 200, status

    server = subprocess.Popen(
        ["node", "subgraphs/server.mjs"],
        cwd=RIG,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={
            **os.environ,
            "SUBGRAPH_CACHE": "1",
            "NODE_ENV": "production",
            "SUBGRAPH_PORT": str(SUBGRAPH_PORT),
        },
    )
    try:
        import httpx

        for _ in range(100):
            try:
                httpx.get(f"{base}/health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        asyncio.run(run())
    finally:
        server.terminate()
        server.wait(10)
    known = json.loads(answers_file.read_text()) if answers_file.exists() else {}
    answers_file.write_text(json.dumps({**known, **{k: v.decode() for k, v in answers.items()}}))


def record_for(trees: list[Path], answers_file: Path) -> None:
    """The answers of every tree's plan (trees whose planners differ ask for other fetches),
    each recorded by the tree's own router."""
    for tree in trees:
        subprocess.run(
            [sys.executable, __file__, "--record", str(answers_file)],
            env={**os.environ, "PYTHONPATH": str(tree)},
            cwd=tree,
            check=True,
        )


def _logs_as_served() -> None:
    """The router's logs as `router serve --log-level WARNING` writes them (so the access
    log's line for each request), to /dev/null: writing them is the router's work."""
    import logging

    from router.logs import log_json_to_stderr

    log_json_to_stderr("WARNING")
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 (the process's life)


def worker(answers_file: Path, profile: str | None) -> None:
    """One tree's router: warms up, then runs a round per line read, printing its CPU ms."""
    from router.server.collector import settle_after_startup

    _logs_as_served()

    _Recorded.answers = {k: v.encode() for k, v in json.loads(answers_file.read_text()).items()}
    expected = (RIG / "bodies" / "full-response.json").read_bytes()
    body = (RIG / "body.json").read_bytes()

    async def run() -> None:
        app = _app_with(_Recorded)
        async with app.router.lifespan_context(app):
            _status, first = await _post(app, body)
            _Recorded.length = len(first)
            await _burst(app, body, 100, expected)
            settle_after_startup()  # the collector as `serve` sets it
            if profile is not None:
                profiler = cProfile.Profile()
                started = time.process_time()
                profiler.enable()
                await _burst(app, body, 20 * ROUND)
                profiler.disable()
                spent = (time.process_time() - started) / (20 * ROUND) * 1000
                print(f"{spent:.3f} ms/request under cProfile")
                stats = pstats.Stats(profiler).strip_dirs().sort_stats(profile)
                stats.print_stats(int(os.environ.get("PROFILE_LINES", "45")))
                return
            print("ready", flush=True)
            for _ in sys.stdin:
                started = time.process_time()
                await _burst(app, body, ROUND)
                print(f"{(time.process_time() - started) / ROUND * 1000:.4f}", flush=True)

    asyncio.run(run())


# The parts `--breakdown` times: (module, attribute, name in the table).
PARTS = (
    ("router.gateway.gateway", "Gateway.execute", "gateway (all but HTTP in and out)"),
    ("router.execution.prepared", "PreparedOperation.respond", "completion"),
    ("router.execution.executor", "objects_at", "walks to the fetched objects"),
    ("router.transport.base", "decode_answer", "decoding the subgraphs' JSON"),
    ("router.execution.executor", "representation", "representations"),
    ("router.execution.executor", "grouped", "grouping the objects by representation"),
    ("router.execution.executor", "_merge_entity", "merging entities into the tree"),
    ("router.server.app", "respond", "the response's JSON and headers"),
)


def _timing(spent: dict[str, int]) -> None:
    """Wraps each of PARTS so that its CPU time adds up in `spent` (requests run one at a
    time, so a coroutine's time is its own)."""
    import importlib

    def wrap(function: Any, name: str) -> Any:
        if asyncio.iscoroutinefunction(function):

            async def timed_coroutine(*args: Any, **kwargs: Any) -> Any:
                started = time.process_time_ns()
                try:
                    return await function(*args, **kwargs)
                finally:
                    spent[name] += time.process_time_ns() - started

            return timed_coroutine

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time_ns()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.process_time_ns() - started

        return timed

    for module_name, attribute, name in PARTS:
        owner: Any = importlib.import_module(module_name)
        *path, last = attribute.split(".")
        for step in path:
            owner = getattr(owner, step)
        if hasattr(owner, last):  # (a part an older tree does not have is left out)
            setattr(owner, last, wrap(getattr(owner, last), name))
    started: list[int] = [0]

    def collector(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.process_time_ns()
        else:
            spent["the garbage collector"] += time.process_time_ns() - started[0]

    gc.callbacks.append(collector)


def breakdown(answers_file: Path) -> None:
    """One tree's CPU per request by part: the best of 5 runs of 300 requests."""
    from collections import Counter

    _logs_as_served()
    _Recorded.answers = {k: v.encode() for k, v in json.loads(answers_file.read_text()).items()}
    body = (RIG / "body.json").read_bytes()
    spent: Counter[str] = Counter()
    _timing(spent)

    async def run() -> None:
        app = _app_with(_Recorded)
        async with app.router.lifespan_context(app):
            _status, first = await _post(app, body)
            _Recorded.length = len(first)
            await _burst(app, body, 100)
            gc.collect()
            gc.freeze()
            best: tuple[int, dict[str, int]] | None = None
            for _ in range(5):
                spent.clear()
                started = time.process_time_ns()
                await _burst(app, body, 300)
                total = time.process_time_ns() - started
                if best is None or total < best[0]:
                    best = (total, dict(spent))
            assert best is not None
            total, parts = best
            print(f"  {'whole request (ASGI app in, JSON out)':40} {total / 300e6:6.3f} ms")
            for name, value in sorted(parts.items(), key=lambda item: -item[1]):
                print(f"  {name:40} {value / 300e6:6.3f} ms {value / total:6.1%}")

    asyncio.run(run())


def _describe(tree: Path) -> str:
    head = subprocess.run(
        ["git", "-C", str(tree), "log", "-1", "--format=%h %s"], capture_output=True, text=True
    ).stdout.strip()
    return f"{tree} ({head[:60]})"


def compare(
    trees: list[Path], rounds: int, answers_file: Path, configs: list[Path] | None = None
) -> None:
    if not configs:
        paired(__file__, ["--worker", str(answers_file)], trees, rounds)
        return
    # this checkout once per router.yaml (each a worker of its own), paired alike
    envs = [{"REPLAY_CONFIG": str(config.resolve())} for config in configs]
    paired(__file__, ["--worker", str(answers_file)], [ROOT] * len(configs), rounds, envs=envs)
    for index, config in enumerate(configs):
        print(f"  row {index + 1}: {config}")


def paired(
    script: str,
    arguments: list[str],
    trees: list[Path],
    rounds: int,
    env: dict[str, str] | None = None,
    unit: str = "CPU ms/req",
    envs: list[dict[str, str]] | None = None,
) -> None:
    """Runs ``script`` with ``arguments`` in each tree (a worker answering "ready", then a
    figure per line it reads), alternating rounds; prints each tree's median and its ratio
    to the first's (the median of the paired rounds' ratios). `envs`: each worker's own
    variables besides."""
    workers = []
    for index, tree in enumerate(trees):
        own = envs[index] if envs is not None else {}
        workers.append(
            subprocess.Popen(
                ["taskset", "-c", "1", sys.executable, script, *arguments],
                env={**os.environ, **(env or {}), **own, "PYTHONPATH": str(tree)},
                cwd=tree,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    for process in workers:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if line != "ready":
            sys.exit(f"a worker did not start: {line!r}")
    times: list[list[float]] = [[] for _ in trees]
    for _ in range(rounds):
        for index, process in enumerate(workers):
            assert process.stdin is not None
            assert process.stdout is not None
            process.stdin.write("round\n")
            process.stdin.flush()
            times[index].append(float(process.stdout.readline()))
    for process in workers:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(30)
    print(f"load average at the end: {os.getloadavg()}")
    print(f"{'tree':72} {unit:>10} {'/ first':>8}")
    for tree, spent in zip(trees, times, strict=True):
        ratio = statistics.median(t / b for b, t in zip(times[0], spent, strict=True))
        print(f"{_describe(tree):72} {statistics.median(spent):10.3f} {ratio:7.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--tree", type=Path, action="append", default=[], help="another tree")
    parser.add_argument("--profile", nargs="?", const="tottime", help="cProfile, sorted so")
    parser.add_argument("--breakdown", action="store_true", help="CPU by part, per tree")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--config", type=Path, help="a router.yaml (e.g. bench/configs/bare.yaml)")
    parser.add_argument(
        "--configs", type=Path, nargs="+", help="this checkout once per router.yaml, paired"
    )
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--record", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--parts", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["REPLAY_CONCURRENCY"] = str(args.concurrency)  # the workers' too
    if args.config is not None:
        os.environ["REPLAY_CONFIG"] = str(args.config.resolve())
    if args.worker is not None:
        worker(args.worker, None)
        return
    if args.parts is not None:
        breakdown(args.parts)
        return
    if args.record is not None:
        record(args.record)
        return
    if not (RIG / "node_modules").is_dir():
        sys.exit(f"no peer-bench rig at {RIG}: run bash bench/peer_gateways.sh once")
    with tempfile.TemporaryDirectory() as scratch:
        answers_file = Path(scratch) / "answers.json"
        record_for([ROOT, *(tree.resolve() for tree in args.tree)], answers_file)
        if args.profile is not None:
            worker(answers_file, args.profile)
        elif args.breakdown:
            for tree in [ROOT, *(tree.resolve() for tree in args.tree)]:
                print(_describe(tree))
                subprocess.run(
                    ["taskset", "-c", "1", sys.executable, __file__, "--parts", str(answers_file)],
                    env={**os.environ, "PYTHONPATH": str(tree), "REPLAY_CONCURRENCY": "1"},
                    cwd=tree,
                    check=True,
                )
        else:
            trees = [ROOT, *(tree.resolve() for tree in args.tree)]
            compare(trees, args.rounds, answers_file, args.configs)


if __name__ == "__main__":
    main()
