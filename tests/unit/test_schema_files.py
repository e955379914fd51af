"""schema/ is generated from code by `lms compose`; CI fails when the checked-in files are stale."""

from __future__ import annotations

from lms.compose import SUBGRAPHS_DIR, SUPERGRAPH_PATH, compose_sources, load_config
from lms.services import available_services


def test_every_subgraph_in_the_tree_is_in_the_supergraph_config() -> None:
    configured = {source.name for source in load_config()}
    assert configured == set(available_services())


def test_checked_in_schemas_are_fresh() -> None:
    supergraph, subgraphs = compose_sources(load_config())
    stale = [
        f"schema/subgraphs/{name}.graphql"
        for name, sdl in subgraphs.items()
        if not (SUBGRAPHS_DIR / f"{name}.graphql").exists()
        or (SUBGRAPHS_DIR / f"{name}.graphql").read_text() != sdl
    ]
    if not SUPERGRAPH_PATH.exists() or SUPERGRAPH_PATH.read_text() != supergraph:
        stale.append("schema/supergraph.graphql")
    assert stale == [], f"run `lms compose` and commit: {stale}"
