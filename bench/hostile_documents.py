"""Worst-case documents: what the router spends on them, per request byte, and what an attack
with them does to everyone else's latency.

1. Compile cost (in process, each document in a fresh subprocess with a time cap): CPU time of
   parse + validate + limits + plan + authorization guards for the nastiest documents we can
   build, as microseconds per request byte, against an ordinary query's in the same run.
   `--tree DIR` measures another checkout (e.g. the commit before a fix) with the same
   documents, so before and after come from one script.
2. Under attack (`--attack-seconds`, 0 to skip): the router in its own process in front of real
   HTTP subgraphs; an ordinary query's latency alone, then while 4 clients send the documents
   of part 1 in a loop. Reported as p50/p99 and their ratio to the quiet run.

Usage: .venv/bin/python bench/hostile_documents.py [--tree DIR] [--cap 20] [--attack-seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hostile_documents import Bomb, repeated_fields, sibling_fragments  # noqa: E402

ORDINARY = "query Top { topProduct { name price reviews { body author { name email } } } }"

DOCUMENTS = {
    "ordinary query (baseline)": ORDINARY,
    "bomb 9x5 at the root": Bomb(9, 5).query,
    "bomb 12x10 at the root": Bomb(12, 10).query,
    "bomb 8x5 under a field": Bomb(8, 5, "Product", "id", "topProduct").query,
    "bomb 12x10 under a field": Bomb(12, 10, "Product", "id", "topProduct").query,
    "2,000 repeated fields": repeated_fields("topProduct { id }", 2000),
    "900 conflicting aliases": repeated_fields("a: topProduct { id } a: topProduct { name }", 900),
    "1,400 sibling fragments": sibling_fragments("Query", "__typename", 1400),
}

_MEASURE = """
import json, sys, time
from router.gateway.gateway import Gateway
from router.supergraph.loader import load_supergraph
from tests.integration.router.conftest import SUPERGRAPH
query = sys.stdin.read()
gateway = Gateway(load_supergraph(SUPERGRAPH), None)  # type: ignore[arg-type]
gateway.prepare("{ topProduct { id name } }", None)  # warm: first-use costs are not the document's
started = time.process_time()
result = gateway.prepare(query, None)
elapsed = time.process_time() - started
body = getattr(result, "body", None)
codes = sorted({e.get("extensions", {}).get("code", "?") for e in (body or {}).get("errors", [])})
print(json.dumps({"seconds": elapsed, "codes": codes}))
"""


def compile_cost(tree: Path, query: str, cap: float) -> tuple[float | None, list[str]]:
    env = {**os.environ, "PYTHONPATH": f"{tree}:{ROOT}"}
    try:
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE],
            input=query,
            capture_output=True,
            text=True,
            env=env,
            cwd=tree,
            timeout=cap,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return None, []
    result = json.loads(done.stdout)
    return result["seconds"], result["codes"]


def part_one(tree: Path, cap: float) -> None:
    print(f"## Compile cost ({tree}), CPU per request byte, capped at {cap:.0f} s\n")
    print("| document | bytes | CPU ms | µs per byte | x ordinary per byte | answer |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    baseline = None
    for name, query in DOCUMENTS.items():
        size = len(query.encode())
        seconds, codes = compile_cost(tree, query, cap)
        if seconds is None:
            cut = f"> {cap * 1000:.0f} | > {cap * 1e6 / size:.0f}"
            print(f"| {name} | {size} | {cut} | | cut at the cap |")
            continue
        per_byte = seconds * 1e6 / size
        baseline = baseline or per_byte
        answer = ", ".join(codes) or "planned"
        ratio = per_byte / baseline
        print(
            f"| {name} | {size} | {seconds * 1000:.1f} | {per_byte:.2f} | {ratio:.1f} | {answer} |"
        )
    print()


async def part_two(tree: Path, seconds: float) -> None:
    import httpx

    from tests.router_process import router_process

    async with router_process(tree) as url, httpx.AsyncClient(base_url=url, timeout=120) as client:
        quiet = await _latencies(client, seconds, attackers=0)
        attacked = await _latencies(client, seconds, attackers=4)
    print(f"## An ordinary query's latency under attack ({tree}), {seconds:.0f} s each\n")
    print("| | requests | p50 ms | p99 ms | max ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, values in (("quiet", quiet), ("4 attackers", attacked)):
        p50, p99 = _percentile(values, 50), _percentile(values, 99)
        print(f"| {label} | {len(values)} | {p50:.1f} | {p99:.1f} | {max(values):.1f} |")
    ratio50 = _percentile(attacked, 50) / _percentile(quiet, 50)
    ratio99 = _percentile(attacked, 99) / _percentile(quiet, 99)
    print(f"\nUnder attack / quiet: p50 x{ratio50:.2f}, p99 x{ratio99:.2f}\n")


async def _latencies(client: object, seconds: float, attackers: int) -> list[float]:
    import httpx

    assert isinstance(client, httpx.AsyncClient)
    deadline = time.monotonic() + seconds
    hostile = [q for n, q in DOCUMENTS.items() if n != "ordinary query (baseline)"]

    async def attack(offset: int) -> None:
        index = offset
        while time.monotonic() < deadline:
            # A fresh variant each time (a trailing comment): no cache can help the router.
            query = f"{hostile[index % len(hostile)]} # {index}"
            await client.post("/graphql", json={"query": query})
            index += attackers

    tasks = [asyncio.create_task(attack(i)) for i in range(attackers)]
    values = []
    while time.monotonic() < deadline:
        started = time.perf_counter()
        response = await client.post("/graphql", json={"query": ORDINARY})
        assert "errors" not in response.json(), response.text
        values.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.02)
    await asyncio.gather(*tasks)
    return values


def _percentile(values: list[float], percent: int) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[percent - 1]
        if len(values) > 1
        else values[0]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout whose router to measure")
    parser.add_argument("--cap", type=float, default=20.0, help="seconds per document at most")
    parser.add_argument("--attack-seconds", type=float, default=10.0)
    args = parser.parse_args()
    part_one(args.tree.resolve(), args.cap)
    if args.attack_seconds > 0:
        asyncio.run(part_two(args.tree.resolve(), args.attack_seconds))


if __name__ == "__main__":
    main()
