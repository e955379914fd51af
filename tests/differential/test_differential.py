"""The router against Apollo Gateway 2.14 on seeded random queries over varied supergraphs.

Every difference must belong to a known class of `cases` (Apollo wrong, or a router fix
pending on another branch); `python -m tests.differential --seeds 1000` explores further.
"""

import os
from collections import Counter

import pytest

from tests.differential import world
from tests.differential.cases import classify
from tests.differential.compare import differences, printout
from tests.differential.generator import generate
from tests.differential.harness import Gateways
from tests.differential.subgraph import DOWN, HARNESS_FAILURES

START = int(os.environ.get("DIFFERENTIAL_START", "0"))
SEEDS = range(START, START + int(os.environ.get("DIFFERENTIAL_SEEDS", "50")))


async def _compare(on: Gateways, seeds: range) -> tuple[Counter[str], list[str]]:
    unknown, classes = [], Counter[str]()
    for seed in seeds:
        operation = generate(on.api_schema, seed)
        ours, theirs = await on.ask(operation.query, operation.variables)
        found = differences(ours, theirs)
        known = classify(ours, theirs, operation.query, on.world) if found else "same"
        classes[known or "unknown"] += 1
        if known is None:
            shown = printout(
                on.world.name, seed, operation.query, operation.variables, ours, theirs
            )
            unknown.append(f"{found}\n{shown}")
    return classes, unknown


@pytest.mark.parametrize("name", world.world_names())
async def test_router_answers_as_apollo_gateway(gateways: dict[str, Gateways], name: str) -> None:
    classes, unknown = await _compare(gateways[name], SEEDS)
    assert not HARNESS_FAILURES
    assert classes["same"] >= len(SEEDS) // 2, classes
    assert not unknown, f"{len(unknown)} of {len(SEEDS)} differ:\n\n" + "\n\n".join(unknown)


@pytest.mark.parametrize("name", world.world_names())
async def test_with_a_subgraph_down(gateways: dict[str, Gateways], name: str) -> None:
    """Each subgraph answering 503 in turn: both gateways keep what the others answered."""
    on = gateways[name]
    unknown = []
    for down in sorted(on.world.subgraphs):
        DOWN.add((name, down))
        try:
            unknown += (await _compare(on, range(1000, 1008)))[1]
        finally:
            DOWN.discard((name, down))
    assert not unknown, f"{len(unknown)} differ:\n\n" + "\n\n".join(unknown)
