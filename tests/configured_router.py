"""Routers serving `router.yaml` sections, in front of the router tests' subgraphs: in this
event loop (`configured_router`), or each in its own process (`configured_router_process`,
for what several replicas share)."""

import contextlib
import json
import tempfile
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from common.infra.ports import free_port
from router.config import RouterConfig
from router.server import create_app
from tests.integration.router.conftest import SUPERGRAPH
from tests.integration.router.subgraphs import Subgraph, subgraphs_app
from tests.router_process import router_process
from tests.support import serve


@contextlib.asynccontextmanager
async def subgraphs_served(graphs: dict[str, Subgraph]) -> AsyncIterator[dict[str, str]]:
    """The subgraphs on a real port: each one's URL by name."""
    async with serve(subgraphs_app(graphs), free_port()) as url:
        yield {name: f"{url}/{name}/graphql" for name in graphs}


@contextlib.asynccontextmanager
async def configured_router(
    config: Mapping[str, Any],
    urls: Mapping[str, str],
    supergraph: str = SUPERGRAPH,
    **options: Any,
) -> AsyncIterator[str]:
    """A router in this event loop on a real port (its URL), configured by `config`."""
    app = create_app(supergraph, urls, config=RouterConfig.model_validate(config), **options)
    async with serve(app, free_port()) as url:
        yield url


@contextlib.asynccontextmanager
async def configured_router_process(config: Mapping[str, Any]) -> AsyncIterator[str]:
    """A router in its own process (its URL), served by `router serve --config`, in front of
    subgraphs of its own."""
    with tempfile.TemporaryDirectory() as scratch:
        config_file = Path(scratch) / "router.yaml"
        config_file.write_text(json.dumps(config))  # (JSON is YAML)
        async with router_process(arguments=("--config", str(config_file))) as url:
            yield url
