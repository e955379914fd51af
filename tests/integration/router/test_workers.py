"""`router serve --workers N`: N processes share the port, each a whole router; one that dies
is replaced, and SIGTERM stops them all."""

import asyncio
import os
import re
import signal
import sys
import tempfile
from pathlib import Path

import httpx

from common.infra.ports import free_port
from tests.integration.router.conftest import SUPERGRAPH, make_subgraphs
from tests.integration.router.subgraphs import subgraphs_app
from tests.support import eventually, serve

QUERY = {"query": "{ products { name reviews { author { name } } } }"}
ANSWER = {
    "data": {
        "products": [
            {
                "name": "Chair",
                "reviews": [{"author": {"name": "Ada"}}, {"author": {"name": "Alan"}}],
            },
            {"name": "Table", "reviews": [{"author": {"name": "Ada"}}]},
        ]
    }
}


def _workers(pid: int) -> set[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {int(child) for child in children}


async def _graphql_requests_counted(url: str) -> float:
    """The GraphQL requests the worker answering this fresh connection counted itself."""
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        text = (await client.get("/metrics")).text
    return sum(float(n) for n in re.findall(r"router_http_requests_total\{[^}]*\} (\S+)", text))


async def test_workers_share_the_port_are_replaced_and_stop_together() -> None:
    async with serve(subgraphs_app(make_subgraphs()), free_port()) as subgraphs_url:
        with tempfile.TemporaryDirectory() as scratch:
            supergraph = Path(scratch) / "supergraph.graphql"
            supergraph.write_text(SUPERGRAPH)
            port = free_port()
            overrides = [
                f"--subgraph-url={n}={subgraphs_url}/{n}/graphql"
                for n in ("products", "reviews", "users")
            ]
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "router", "serve", "--supergraph", str(supergraph),
                "--port", str(port), "--log-level", "ERROR", "--no-watch", "--workers", "2",
                *overrides,
            )  # fmt: skip
            url = f"http://127.0.0.1:{port}"
            try:
                await eventually(lambda: len(_workers(process.pid)) == 2)
                first = _workers(process.pid)
                for _ in range(30):  # each on a connection of its own
                    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
                        for _ in range(50):
                            try:
                                response = await client.post("/graphql", json=QUERY)
                                break
                            except httpx.TransportError:  # still starting
                                await asyncio.sleep(0.1)
                    assert response.status_code == 200
                    assert response.json() == ANSWER
                # Each worker counts only what it answered: a worker that counted fewer than
                # the 30 means another answered the rest (the kernel spreads connections; all
                # 30 to one of two workers has odds of 2**-29).
                counted = await _graphql_requests_counted(url)
                assert 1 <= counted < 30

                killed = min(first)
                os.kill(killed, signal.SIGKILL)
                async with httpx.AsyncClient(base_url=url, timeout=5) as client:
                    for _ in range(5):
                        assert (await client.post("/graphql", json=QUERY)).json() == ANSWER
                await eventually(lambda: len(_workers(process.pid)) == 2)
                replacement = _workers(process.pid) - first
                assert len(replacement) == 1
                assert killed not in _workers(process.pid)

                process.send_signal(signal.SIGTERM)
                assert await asyncio.wait_for(process.wait(), 15) == 0
                for worker in _workers_gone(first | replacement):
                    raise AssertionError(f"worker {worker} outlived the supervisor")
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()


def _workers_gone(pids: set[int]) -> list[int]:
    """The pids among `pids` still running (not zombies of the supervisor's)."""
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive
