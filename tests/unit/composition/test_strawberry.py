"""Strawberry's exported federation SDL is a primary input."""

import pytest

from router.composition import SubgraphInput

from .strawberry_subgraphs import SCHEMAS
from .support import assert_same_supergraph, compose_ok, expected_supergraph


def _subgraphs(version: str) -> list[SubgraphInput]:
    return [
        SubgraphInput(name, f"http://{name}:8000/graphql", build(version).as_str())
        for name, build in SCHEMAS.items()
    ]


@pytest.mark.parametrize("version", ["2.11", "2.7"])
def test_strawberry_schemas_compose_like_apollo(version: str) -> None:
    supergraph = compose_ok(_subgraphs(version))
    assert_same_supergraph(
        supergraph, expected_supergraph("strawberry", f"supergraph-{version}.graphql")
    )


def test_federation_internals_are_dropped() -> None:
    supergraph = compose_ok(_subgraphs("2.11"))
    for internal in ("_entities", "_service", "_Any", "_Entity", "_Service"):
        assert internal not in supergraph


@pytest.mark.parametrize(("version", "join"), [("2.11", "v0.5"), ("2.7", "v0.4"), ("2.5", "v0.3")])
def test_join_version_follows_federation_version(version: str, join: str) -> None:
    subgraphs = [
        SubgraphInput(name, f"http://{name}:8000/graphql", build(version).as_str())
        for name, build in SCHEMAS.items()
        if name == "users"
    ]
    supergraph = compose_ok(subgraphs)
    assert f'@link(url: "https://specs.apollo.dev/join/{join}", for: EXECUTION)' in supergraph
