from collections.abc import AsyncIterator

import pytest

from tests.differential import world
from tests.differential.harness import Gateways, oracle_ready, running


@pytest.fixture(scope="session")
async def gateways() -> AsyncIterator[dict[str, Gateways]]:
    """The generic subgraphs of every supergraph, with the router and Apollo Gateway on each."""
    problem = oracle_ready()
    assert problem is None, problem
    async with running([world.load(name) for name in world.world_names()]) as started:
        yield started
