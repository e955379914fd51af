"""The resilience tests' world: the router tests' three subgraphs, each served on its own port
behind a `TcpProxy` (which counts what reaches it, holds or drops requests), and the router
on a real port with a `traffic_shaping` section; a subgraph can be killed and restarted."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from common.infra.ports import free_port
from router.config import RouterConfig
from router.server import create_app
from tests.integration.router.conftest import SUPERGRAPH, make_subgraphs
from tests.integration.router.subgraphs import Subgraph, subgraph_app
from tests.support import metric, serve
from tests.tcp_proxy import TcpProxy, tcp_proxy


@dataclass
class World:
    router: httpx.AsyncClient
    proxies: dict[str, TcpProxy]
    subgraphs: dict[str, Subgraph]
    ports: dict[str, int]
    _running: dict[str, contextlib.AsyncExitStack] = field(default_factory=dict)

    async def start(self, name: str) -> None:
        stack = contextlib.AsyncExitStack()
        await stack.enter_async_context(serve(subgraph_app(self.subgraphs[name]), self.ports[name]))
        self._running[name] = stack

    async def kill(self, name: str) -> None:
        await self._running.pop(name).aclose()

    async def query(self, query: str, **headers: str) -> dict[str, Any]:
        response = await self.router.post("/graphql", json={"query": query}, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def health(self) -> dict[str, Any]:
        response = await self.router.get("/health")
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body

    async def metric(self, name: str, **labels: str) -> float:
        """A sample of the router's /metrics (0 when absent; summed over other labels)."""
        return await metric(self.router, "/metrics", name, **labels)


@contextlib.asynccontextmanager
async def resilience_world(
    traffic_shaping: dict[str, Any], *, readiness: bool = False
) -> AsyncIterator[World]:
    """``readiness``: the router checks the subgraphs' health (through the proxies, which
    count those requests too)."""
    config = RouterConfig.model_validate(
        {
            "traffic_shaping": traffic_shaping,
            "health_check": {"readiness": {"subgraphs": readiness, "interval": {"sampling": 0.1}}},
        }
    )
    subgraphs = make_subgraphs()
    async with contextlib.AsyncExitStack() as stack:
        ports = {name: free_port() for name in subgraphs}
        proxies = {
            name: await stack.enter_async_context(tcp_proxy(port)) for name, port in ports.items()
        }
        app = create_app(
            SUPERGRAPH, {name: proxy.url for name, proxy in proxies.items()}, config=config
        )
        url = await stack.enter_async_context(serve(app, free_port()))
        router = await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30))
        world = World(router, proxies, subgraphs, ports)
        for name in subgraphs:
            await world.start(name)
        try:
            yield world
        finally:
            for proxy in proxies.values():  # nothing stays held while the servers stop
                if proxy.hold is not None:
                    proxy.hold.set()
            for name in list(world._running):
                await world.kill(name)
