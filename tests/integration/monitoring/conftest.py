"""The monitored platform: the router as `lms dev` runs it (the checked-in router.yaml) over
this session's subgraphs, and a real Prometheus scraping it, every subgraph and every worker
with the platform's alert rules loaded (as `lms dev --with-monitoring` runs it). All of it
lives as long as this package's tests: a scraper left running would put its requests in
the access logs other tests read."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from common.auth.revocations import RevocationList
from common.events.worker import run_worker
from common.infra.ports import free_port
from common.infra.prometheus import PrometheusServer
from common.settings import Settings
from lms import services
from lms.compose import SUPERGRAPH_PATH
from lms.dev import ROUTER_CONFIG, router_environment
from lms.monitoring import RULES, platform_targets, scrape_config
from lms.services import available_services
from router.config import load_config
from router.server import create_app
from tests.support import GraphQLClient, serve


@pytest.fixture(scope="package")
async def monitored_router(subgraph_urls: dict[str, str], migrated: Settings) -> AsyncIterator[str]:
    environment = router_environment(migrated, available_services())
    app = create_app(
        SUPERGRAPH_PATH.read_text(),
        config=load_config(ROUTER_CONFIG, environ=environment),
        revocations=RevocationList.from_url(migrated.redis_url),
    )
    async with serve(app, free_port()) as url:
        yield url


@pytest.fixture(scope="package")
async def monitored_workers(migrated: Settings) -> AsyncIterator[dict[str, str]]:
    """A worker per service, each serving /metrics on a port of its own (as `lms dev` gives
    them), beside the session's workers: they share the outboxes and queues, as replicas do."""
    ports = {name: free_port() for name in available_services()}
    workers = [
        asyncio.create_task(
            run_worker(
                services.spec(name),
                dataclasses.replace(
                    migrated, worker_metrics_port=port, worker_metrics_interval_ms=500
                ),
            ),
            name=f"{name}-monitored-worker",
        )
        for name, port in ports.items()
    ]
    try:
        yield {name: f"{migrated.host}:{port}" for name, port in ports.items()}
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


@pytest.fixture(scope="package")
def graph(monitored_router: str, http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http, f"{monitored_router}/graphql")


@pytest.fixture(scope="package")
def prometheus(
    state_dir: Path,
    monitored_router: str,
    subgraph_urls: dict[str, str],
    monitored_workers: dict[str, str],
) -> Iterator[PrometheusServer]:
    """Scraping every second, the alert rules evaluated as often."""
    targets = platform_targets(
        host_port(monitored_router),
        {name: host_port(url) for name, url in subgraph_urls.items()},
        monitored_workers,
    )
    config = scrape_config(targets, [str(RULES)], interval="1s")
    with PrometheusServer(state_dir / "prometheus", free_port(), config) as server:
        yield server


def host_port(url: str) -> str:
    return url.removeprefix("http://")
