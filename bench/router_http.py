"""The router's CPU per request outside execution: the peer benchmark's request through the
router's ASGI app (every middleware with the default configuration, the access log written
as `serve` writes it, to /dev/null here), the gateway's `execute` replaced by the peer
query's recorded 87.6 KB answer, so that what is measured is HTTP in and out: reading and
parsing the body, the policies, the access log, the metrics, the response's JSON.

Usage:
    .venv/bin/python bench/router_http.py [--rounds 20] [--tree DIR]...   # paired ratios
    .venv/bin/python bench/router_http.py --profile [tottime|cumulative]  # cProfile

Each tree runs in a process of its own pinned to core 1, pure Python (LMS_ROUTER_NATIVE=0:
none of this path is compiled); rounds of 500 requests, one at a time, alternate between
the processes (the collector set as `serve` sets it); a tree's figure is the median of its
rounds, its ratio the median of the paired rounds' (2.00x: twice the first tree's CPU).
Needs the rig bench/peer_gateways.sh installs ($RIG, /tmp/peer-bench); no subgraph runs."""

import argparse
import asyncio
import cProfile
import logging
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--tree", type=Path, action="append", default=[], help="another tree")
    parser.add_argument("--profile", nargs="?", const="tottime", help="cProfile, sorted so")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker or args.profile is not None:
        worker(args.profile)
        return
    if not (RIG / "body.json").is_file():
        sys.exit(f"no peer-bench rig at {RIG}: run bash bench/peer_gateways.sh once")
    trees = [ROOT, *(tree.resolve() for tree in args.tree)]
    env = {"LMS_ROUTER_NATIVE": "0"}
    paired(__file__, ["--worker"], trees, args.rounds, env, unit="CPU us/req")


if __name__ == "__main__":
    main()
