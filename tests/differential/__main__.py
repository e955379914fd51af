"""Explore more seeds than the test suite runs: every difference not known yet is printed.

python -m tests.differential --seeds 1000 [--start 0] [--supergraph commerce] [--all]
"""

import argparse
import asyncio
from collections import Counter

from tests.differential import world
from tests.differential.cases import classify
from tests.differential.compare import differences, printout
from tests.differential.generator import generate
from tests.differential.harness import oracle_ready, running
from tests.differential.subgraph import HARNESS_FAILURES


async def explore(names: list[str], seeds: range, show_known: bool) -> int:
    unknown = 0
    async with running([world.load(name) for name in names]) as gateways:
        for name, gateways_on in gateways.items():
            counts: Counter[str] = Counter()
            for seed in seeds:
                operation = generate(gateways_on.api_schema, seed)
                ours, theirs = await gateways_on.ask(operation.query, operation.variables)
                found = differences(ours, theirs)
                if not found:
                    counts["same"] += 1
                    continue
                known = classify(ours, theirs, operation.query, gateways_on.world)
                counts[known or "UNKNOWN"] += 1
                if known is None or show_known:
                    unknown += known is None
                    print(f"--- {known or 'UNKNOWN'}: {found}")
                    print(printout(name, seed, operation.query, operation.variables, ours, theirs))
            print(f"=== {name}: {dict(counts)}")
    for failure in HARNESS_FAILURES:
        print(f"harness failure: {failure}")
    return 1 if unknown or HARNESS_FAILURES else 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.differential")
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--supergraph", action="append", choices=world.world_names())
    parser.add_argument("--all", action="store_true", help="print known differences too")
    options = parser.parse_args()
    problem = oracle_ready()
    if problem:
        parser.error(problem)
    names = options.supergraph or world.world_names()
    seeds = range(options.start, options.start + options.seeds)
    return asyncio.run(explore(names, seeds, options.all))


if __name__ == "__main__":
    raise SystemExit(main())
