"""Readiness (`health_check.readiness`): `/ready` answers 200 while the supergraph is loaded
and, with `readiness.subgraphs`, every subgraph's health check passed at the last sampling;
else 503 with a JSON body naming what is not ready. The checks run in the background every
`readiness.interval.sampling`, so `/ready` never waits on a subgraph; `router_ready` says the
same (1 ready, 0 not). `/health` stays liveness."""

import asyncio
from collections.abc import Callable, Mapping
from urllib.parse import urljoin

import httpx
from prometheus_client import Gauge

from router.config.server import ReadinessSection
from router.metrics import REGISTRY

READY = Gauge("router_ready", "1 while /ready answers 200, else 0", registry=REGISTRY)
NOT_CHECKED = "not checked yet"


async def _check(client: httpx.AsyncClient, url: str, seconds: float) -> str | None:
    """None when the health check at ``url`` passes (within ``seconds``), else what failed."""
    try:
        response = await client.get(url, timeout=seconds)
    except httpx.TimeoutException:
        return f"no answer within {seconds}s"
    except httpx.HTTPError as failure:
        return f"unreachable: {type(failure).__name__}"
    if not response.is_success:
        return f"health check answered HTTP {response.status_code}"
    return None


class Readiness:
    """The subgraphs' health as last sampled: per subgraph, the URL checked and its problem
    (None when it passed)."""

    def __init__(self) -> None:
        self._checked: dict[str, tuple[str, str | None]] = {}

    async def sample(
        self, client: httpx.AsyncClient, urls: Mapping[str, str], section: ReadinessSection
    ) -> None:
        checks = {name: urljoin(url, section.subgraph_path) for name, url in urls.items()}
        problems = await asyncio.gather(
            *(_check(client, url, section.timeout) for url in checks.values())
        )
        self._checked = {
            name: (url, problem)
            for (name, url), problem in zip(checks.items(), problems, strict=True)
        }

    def problems(self, urls: Mapping[str, str], section: ReadinessSection) -> dict[str, str]:
        """What keeps each subgraph from being ready (none: the router is ready)."""
        if not section.subgraphs:
            return {}
        found: dict[str, str] = {}
        for name, url in urls.items():
            checked = self._checked.get(name)
            if checked is None or checked[0] != urljoin(url, section.subgraph_path):
                found[name] = NOT_CHECKED  # a new subgraph, or a new URL
            elif checked[1] is not None:
                found[name] = checked[1]
        READY.set(0 if found else 1)
        return found


async def watch_readiness(
    readiness: Readiness, current: Callable[[], tuple[Mapping[str, str], ReadinessSection]]
) -> None:
    """Sample the subgraphs' health every `interval.sampling`, as ``current`` configures it
    at the time (the subgraph URLs and the readiness section of the configuration in use)."""
    async with httpx.AsyncClient() as client:
        while True:
            urls, section = current()
            if section.subgraphs:
                await readiness.sample(client, urls, section)
            readiness.problems(urls, section)  # (sets router_ready)
            await asyncio.sleep(section.interval.sampling)
