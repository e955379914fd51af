"""`lms compose` can take a subgraph's SDL from the running service (`_service { sdl }`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lms.compose import ComposeError, compose_sources, load_config
from lms.services import schema_sdl


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "supergraph.yaml"
    path.write_text(
        "subgraphs:\n  users:\n    routing_url: http://users/graphql\n"
        f"    schema:\n      subgraph_url: {url}\n"
    )
    return path


async def test_sdl_from_the_running_subgraph_equals_the_sdl_from_code(
    users_url: str, tmp_path: Path
) -> None:
    config = load_config(_config(tmp_path, f"{users_url}/graphql"))
    # (a thread: the subgraph is served by this test's event loop)
    supergraph, sdls = await asyncio.to_thread(compose_sources, config)
    assert sdls["users"].strip() == schema_sdl("users").strip()
    assert 'USERS @join__graph(name: "users", url: "http://users/graphql")' in supergraph


async def test_an_unreachable_subgraph_is_named(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, "http://127.0.0.1:9/graphql"))
    with pytest.raises(ComposeError, match=r"cannot read _service \{ sdl \} from http://127"):
        compose_sources(config)
