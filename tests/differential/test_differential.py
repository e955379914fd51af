"""The router against Apollo Gateway 2.14 on seeded random queries over varied supergraphs."""

import os
from collections.abc import AsyncIterator

import pytest

from tests.differential import world
from tests.differential.compare import differences, printout
from tests.differential.generator import generate
from tests.differential.subgraph import HARNESS_FAILURES
from tests.differential.harness import Gateways, oracle_ready, running

SEEDS = range(int(os.environ.get("DIFFERENTIAL_SEEDS", "30")))


@pytest.fixture(scope="session")
async def gateways() -> AsyncIterator[dict[str, Gateways]]:
    problem = oracle_ready()
    assert problem is None, problem
    async with running([world.load(name) for name in world.world_names()]) as started:
        yield started


@pytest.mark.parametrize("name", world.world_names())
async def test_router_answers_as_apollo_gateway(gateways: dict[str, Gateways], name: str) -> None:
    failures = []
    for seed in SEEDS:
        operation = generate(gateways[name].api_schema, seed)
        ours, theirs = await gateways[name].ask(operation.query, operation.variables)
        found = differences(ours, theirs)
        if found:
            failures.append(
                f"{found}\n"
                + printout(name, seed, operation.query, operation.variables, ours, theirs)
            )
    assert not HARNESS_FAILURES
    assert not failures, f"{len(failures)} of {len(SEEDS)} differ:\n\n" + "\n\n".join(failures)
