"""The router in its own process (`python -m router serve`), as deployed, in front of the
router tests' HTTP subgraphs served in this event loop."""

import asyncio
import contextlib
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import IO

import httpx

from common.infra.ports import free_port
from tests.integration.router.conftest import SUPERGRAPH, make_subgraphs
from tests.integration.router.subgraphs import Subgraph, subgraphs_app
from tests.support import serve


async def _healthy(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(f"{url}/health", timeout=1)).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise RuntimeError("the router did not start")


@contextlib.asynccontextmanager
async def router_process(
    tree: Path | None = None,
    *,
    arguments: Sequence[str] = (),
    stderr: IO[bytes] | None = None,
    watch: bool = False,
    graphs: dict[str, Subgraph] | None = None,
) -> AsyncIterator[str]:
    """The router's URL; `tree` runs another checkout's router (for before/after figures),
    with more `arguments` for `router serve`, its logs written to `stderr`, its files
    watched with `watch`; its subgraphs are `graphs` when given (to read what they were sent)."""
    graphs = make_subgraphs() if graphs is None else graphs
    async with serve(subgraphs_app(graphs), free_port()) as subgraphs_url:
        with tempfile.TemporaryDirectory() as scratch:
            supergraph = Path(scratch) / "supergraph.graphql"
            supergraph.write_text(SUPERGRAPH)
            port = free_port()
            overrides = [f"--subgraph-url={n}={subgraphs_url}/{n}/graphql" for n in graphs]
            env = {**os.environ, "PYTHONPATH": str(tree)} if tree else None
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "router", "serve", "--supergraph", str(supergraph),
                "--port", str(port), "--log-level", "WARNING", *overrides,
                *(() if watch else ("--no-watch",)), *arguments, env=env, cwd=tree, stderr=stderr,
            )  # fmt: skip
            url = f"http://127.0.0.1:{port}"
            try:
                await _healthy(url)
                yield url
            finally:
                process.terminate()
                await process.wait()
