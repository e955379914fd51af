"""What the entity cache costs a router that has it off: CPU time per request of the
bench/cache.py catalogue page (a root fetch and an entity fetch of 20 instructors) through
an in-process router whose subgraph answers are canned (decoded as the transports decode
them), for two source trees alternately, each run in a process of its own.

Usage: .venv/bin/python bench/cache_off_cost.py BASE_TREE OTHER_TREE [--runs 6]
       [--requests 2000]
(for instance /work/main and this worktree). A run prints its CPU ms per request."""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()


def _run(requests: int) -> float:
    import httpx

    from router import jsonio
    from router.composition.api import compose
    from router.composition.subgraph import SubgraphInput
    from router.server import create_app
    from router.transport.base import decode_answer

    sys.path.insert(0, str(HERE.parent))
    from cache import CATALOG, LINK, PAGE, USERS, _course

    page = jsonio.dumps({"data": {"courses": [_course(n, {}) for n in range(20)]}})

    class Canned:
        async def send(
            self,
            service: str,
            payload: Mapping[str, Any],
            headers: Mapping[str, str],
            *,
            idempotent: bool = False,
        ) -> dict[str, Any]:
            representations = (payload.get("variables") or {}).get("representations")
            if representations is None:
                return decode_answer(service, 200, page)
            users = [{"__typename": "User", "id": r["id"], "name": "I"} for r in representations]
            return decode_answer(service, 200, jsonio.dumps({"data": {"_entities": users}}))

        async def send_multipart(
            self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str]
        ) -> dict[str, Any]:
            raise NotImplementedError

        async def aclose(self) -> None:
            return None

    composed = compose(
        [
            SubgraphInput("catalog", "http://catalog.local/graphql", LINK + CATALOG),
            SubgraphInput("users", "http://users.local/graphql", LINK + USERS),
        ]
    )
    assert composed.supergraph_sdl is not None
    app = create_app(composed.supergraph_sdl, transport=Canned())
    body = jsonio.dumps({"query": PAGE})
    headers = {"content-type": "application/json"}

    async def drive() -> float:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://r") as client:
            for _ in range(200):  # warm-up: plans, caches
                await client.post("/graphql", content=body, headers=headers)
            began = time.process_time()
            for _ in range(requests):
                answer = await client.post("/graphql", content=body, headers=headers)
                assert answer.status_code == 200
            return (time.process_time() - began) / requests * 1000

    return asyncio.run(drive())


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("trees", nargs="*", type=Path)
    options.add_argument("--runs", type=int, default=6)
    options.add_argument("--requests", type=int, default=2000)
    options.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = options.parse_args()
    if args.one:
        print(f"{_run(args.requests):.4f}")
        return 0
    if len(args.trees) != 2:
        options.error("give two source trees: BASE OTHER")
    times: dict[Path, list[float]] = {tree: [] for tree in args.trees}
    for run in range(args.runs):
        order = args.trees if run % 2 == 0 else list(reversed(args.trees))
        for tree in order:
            env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
            command = [sys.executable, str(HERE), "--one", "--requests", str(args.requests)]
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            times[tree].append(float(done.stdout.strip().splitlines()[-1]))
    base, other = args.trees
    ratios = [o / b for b, o in zip(times[base], times[other], strict=True)]
    for tree in args.trees:
        print(f"{tree}: CPU ms per request {', '.join(f'{t:.3f}' for t in times[tree])}")
    print(
        f"{other} / {base}: median {statistics.median(ratios) - 1:+.1%} "
        f"(runs {', '.join(f'{r - 1:+.1%}' for r in ratios)})".replace("+-", "-")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
