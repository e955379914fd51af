"""The checked-in supergraphs are Apollo composition's output for the subgraph SDLs beside them.

Recompose one with: node tests/differential/oracle/oracle.mjs compose \
    tests/differential/supergraphs/<name> > tests/differential/supergraphs/<name>/supergraph.graphql
"""

import asyncio

import pytest

from tests.differential import world
from tests.differential.harness import ORACLE, oracle_ready


@pytest.mark.parametrize("name", world.world_names())
async def test_composed_supergraph_is_fresh(name: str) -> None:
    assert oracle_ready() is None, oracle_ready()
    process = await asyncio.create_subprocess_exec(
        "node",
        str(ORACLE / "oracle.mjs"),
        "compose",
        str(world.directory(name)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    composed, problems = await process.communicate()
    assert process.returncode == 0, problems.decode()
    assert composed.decode() == world.load(name).supergraph, f"recompose {name} (see docstring)"


def test_every_supergraph_has_three_subgraphs_or_more() -> None:
    assert len(world.world_names()) >= 4
    for name in world.world_names():
        assert len(world.load(name).subgraphs) >= 3, name
