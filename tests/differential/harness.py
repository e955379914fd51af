"""Both gateways on the same supergraph text over the same generic subgraphs, asked alike."""

import asyncio
import contextlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from graphql import GraphQLSchema, build_client_schema, get_introspection_query

from router.server import create_app
from tests.differential.subgraph import worlds_app
from tests.differential.world import HERE, World

ORACLE = HERE / "oracle"
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


@dataclass
class Gateways:
    world: World
    router: httpx.AsyncClient
    apollo: httpx.AsyncClient
    api_schema: GraphQLSchema

    async def ask(self, query: str, variables: dict[str, Any]) -> tuple[Answer, Answer]:
        payload = {"query": query, "variables": variables}
        ours, theirs = await asyncio.gather(
            self.router.post("/graphql", json=payload), self.apollo.post("/", json=payload)
        )
        return _answer(ours), _answer(theirs)


def _answer(response: httpx.Response) -> Answer:
    try:
        return Answer(response.status_code, response.json())
    except json.JSONDecodeError:
        return Answer(response.status_code, {"not json": response.text})


def oracle_ready() -> str | None:
    """Why the oracle cannot run here, or None when it can."""
    node = shutil.which("node")
    if node is None:
        return "node is not installed (bash scripts/setup.sh installs it)"
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
    if int(version.lstrip("v").split(".")[0] or 0) < 20:
        return f"Apollo Server 5 needs Node.js 20 or later, this is {version.strip()}"
    if not (ORACLE / "node_modules" / "@apollo" / "gateway").is_dir():
        return f"the oracle's packages are missing: run bash scripts/setup.sh (npm ci in {ORACLE})"
    return None


@contextlib.asynccontextmanager
async def _subgraphs(worlds: list[World]) -> AsyncIterator[str]:
    config = uvicorn.Config(
        worlds_app(worlds), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    for _ in range(1000):
        if server.started or serving.done():
            break
        await asyncio.sleep(0.01)
    if not server.started:
        await serving
        raise RuntimeError("the generic subgraph server did not start")
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await serving


@contextlib.asynccontextmanager
async def _apollo(supergraph: Path) -> AsyncIterator[str]:
    process = await asyncio.create_subprocess_exec(
        "node",
        str(ORACLE / "oracle.mjs"),
        "serve",
        str(supergraph),
        "0",
        stdout=asyncio.subprocess.PIPE,
        cwd=ORACLE,
    )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT)
        if not line.startswith(b"ready "):
            raise RuntimeError(f"Apollo Gateway did not start on {supergraph}: {line!r}")
        yield line.decode().split()[1].rstrip("/")
    finally:
        process.terminate()
        await process.wait()


async def _api_schema(client: httpx.AsyncClient) -> GraphQLSchema:
    response = await client.post("/", json={"query": get_introspection_query()})
    return build_client_schema(response.json()["data"])


@contextlib.asynccontextmanager
async def running(worlds: list[World]) -> AsyncIterator[dict[str, Gateways]]:
    """Subgraphs for every world, and both gateways on each, until the block ends."""
    async with contextlib.AsyncExitStack() as stack:
        base = await stack.enter_async_context(_subgraphs(worlds))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        gateways: dict[str, Gateways] = {}
        for world in worlds:
            text = world.supergraph_at(base)
            path = folder / f"{world.name}.graphql"
            path.write_text(text)
            apollo_url = await stack.enter_async_context(_apollo(path))
            apollo = await stack.enter_async_context(
                httpx.AsyncClient(base_url=apollo_url, timeout=30)
            )
            app = create_app(text)
            await stack.enter_async_context(app.router.lifespan_context(app))
            router = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://router", timeout=30
                )
            )
            gateways[world.name] = Gateways(world, router, apollo, await _api_schema(apollo))
        yield gateways
