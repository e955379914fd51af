"""Routers serving `router.yaml` sections, in front of the router tests' subgraphs: in this
event loop (`configured_router`), or each in its own process (`configured_router_process`,
for what several replicas share) until `router serve` reads the file itself.

As a program: `python -m tests.configured_router CONFIG.json SUPERGRAPH PORT NAME=URL...`."""

import contextlib
import json
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from common.infra.ports import free_port
from router.config import RouterConfig
from router.server import create_app
from tests.integration.router.conftest import SUPERGRAPH
from tests.integration.router.subgraphs import Subgraph, subgraphs_app
from tests.router_process import python_router
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
async def configured_router_process(
    config: Mapping[str, Any], urls: Mapping[str, str]
) -> AsyncIterator[str]:
    """A router in its own process (its URL), configured by `config`."""
    with tempfile.TemporaryDirectory() as scratch:
        config_file, supergraph = Path(scratch) / "config.json", Path(scratch) / "sg.graphql"
        config_file.write_text(json.dumps(config))
        supergraph.write_text(SUPERGRAPH)
        port = free_port()
        pairs = (f"{name}={url}" for name, url in urls.items())
        async with python_router(
            port, "-m", "tests.configured_router", str(config_file), str(supergraph), str(port),
            *pairs,
        ) as url:  # fmt: skip
            yield url


def _main(argv: list[str]) -> None:
    import uvicorn

    config_file, supergraph, port, *pairs = argv
    config = RouterConfig.model_validate(json.loads(Path(config_file).read_text()))
    urls = dict(pair.split("=", 1) for pair in pairs)
    app = create_app(Path(supergraph).read_text(), urls, config=config)
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning")


if __name__ == "__main__":
    _main(sys.argv[1:])
