"""Helpers the tests share: a GraphQL client over real HTTP and a uvicorn server in-loop."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from prometheus_client.parser import text_string_to_metric_families
from starlette.types import ASGIApp

from router.server.http_protocol import (
    GRACEFUL_SHUTDOWN_SECONDS,
    ConnectionLimits,
    uvicorn_options,
)


@dataclass
class GraphQLClient:
    http: httpx.AsyncClient
    url: str

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            self.url, json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.headers["content-type"].startswith("application/"), response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """The data of a response that must have no errors."""
        body = await self.execute(query, variables, token=token)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result


async def eventually(
    check: Callable[[], Awaitable[Any] | Any], within: float = 10.0, every: float = 0.05
) -> Any:
    """The first truthy result of `check` (a function or a coroutine function), polled until
    `within` seconds have passed: how a test waits for something that happens in the
    background (never a fixed pause)."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"the condition did not hold within {within} s")
        await asyncio.sleep(every)


async def samples(http: httpx.AsyncClient, url: str, name: str, **labels: str) -> list[float]:
    """The values of the samples named ``name`` with these labels (others free) in the
    Prometheus text ``url`` serves."""
    text = (await http.get(url)).text
    return [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    ]


async def metric(http: httpx.AsyncClient, url: str, name: str, **labels: str) -> float:
    """The sum of `samples` (0 when there are none)."""
    return sum(await samples(http, url, name, **labels))


def error_codes(body: dict[str, Any]) -> list[str]:
    return [
        error.get("extensions", {}).get("code", "<no code>") for error in body.get("errors", [])
    ]


@contextlib.asynccontextmanager
async def raw_connection(
    host: str, port: int
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """A plain TCP connection to a server, for bytes sent exactly as written; closed after."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


@contextlib.asynccontextmanager
async def serve(
    app: ASGIApp, port: int, limits: ConnectionLimits | None = None
) -> AsyncIterator[str]:
    """Run an ASGI app on 127.0.0.1:port inside the current loop, served as `lms serve` and
    `router serve` serve it."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="on", **uvicorn_options(limits)
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started or task.done():
            break
        await asyncio.sleep(0.05)
    if not server.started:
        await task
        raise RuntimeError(f"server on port {port} did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await stopped(server, task, port)


async def stopped(server: uvicorn.Server, task: asyncio.Task[None], port: int) -> None:
    """Wait for a server asked to exit; one still running a while after its graceful
    shutdown (`GRACEFUL_SHUTDOWN_SECONDS`) is forced, then cancelled, and said on stderr,
    so that a server that does not stop shows instead of hanging the session."""
    bound = GRACEFUL_SHUTDOWN_SECONDS + 10
    if (await asyncio.wait([task], timeout=bound))[0]:
        await task  # its error, if it failed
        return
    print(f"server on port {port} did not stop within {bound} s: forced", file=sys.stderr)
    server.force_exit = True
    if not (await asyncio.wait([task], timeout=5))[0]:
        task.cancel()
    await asyncio.gather(task, return_exceptions=True)
