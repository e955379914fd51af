"""The router (`create_app`, as `router serve` builds it from `router.yaml`) on a real port in
this event loop, in front of the router tests' subgraphs on another: for policies a client
meets over HTTP (CORS, compression)."""

import contextlib
from collections.abc import AsyncIterator

from common.infra.ports import free_port
from router.config import RouterConfig
from router.server import create_app
from tests.integration.router.conftest import SUPERGRAPH, make_subgraphs
from tests.integration.router.subgraphs import subgraphs_app
from tests.support import serve


@contextlib.asynccontextmanager
async def served_router(config: RouterConfig | None = None) -> AsyncIterator[str]:
    """The router's URL (`http://127.0.0.1:<port>`), configured by `config`."""
    graphs = make_subgraphs()
    async with serve(subgraphs_app(graphs), free_port()) as subgraphs_url:
        urls = {name: f"{subgraphs_url}/{name}/graphql" for name in graphs}
        app = create_app(SUPERGRAPH, urls, config=config)
        async with serve(app, free_port()) as url:
            yield url
