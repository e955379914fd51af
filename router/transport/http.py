"""Pooled keep-alive HTTP to subgraphs over httpx."""

import asyncio
import sys
from collections.abc import Mapping
from typing import Any

import httpx

from router import jsonio
from router.transport.base import SubgraphRequestError
from router.transport.multipart import PREFLIGHT_HEADER, encode_multipart

# httpcore asks `import sniffio` on every request; when sniffio is absent each failed import
# searches sys.path again (about a fifth of the router's CPU time under load). Recording the
# absence once makes that import fail fast, exactly as before but without the search.
sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

_HEADERS = {"content-type": "application/json", "accept": "application/json"}


class HttpTransport:
    def __init__(
        self,
        urls: Mapping[str, str],
        timeout: float = 30.0,
        timeouts: Mapping[str, float] | None = None,
        max_connections: int = 512,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.urls = dict(urls)
        self.timeouts = {name: timeouts.get(name, timeout) for name in urls} if timeouts else {}
        self.default_timeout = timeout
        self.client = client or httpx.AsyncClient(
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            timeout=timeout,
        )

    async def send(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> dict[str, Any]:
        return await self._post(service, jsonio.dumps(payload), {**_HEADERS, **headers})

    async def send_multipart(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> dict[str, Any]:
        body, content_type = encode_multipart(payload)
        own = {"content-type": content_type, "accept": "application/json", PREFLIGHT_HEADER: "true"}
        return await self._post(service, body, {**own, **headers})

    async def _post(self, service: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        url = self.urls[service]
        timeout = self.timeouts.get(service, self.default_timeout)
        try:
            async with asyncio.timeout(timeout):
                response = await self.client.post(
                    url, content=body, headers=headers, timeout=timeout
                )
        except (TimeoutError, httpx.TimeoutException) as error:
            raise SubgraphRequestError(
                service, f"subgraph {service!r} timed out after {timeout}s", "SUBGRAPH_TIMEOUT"
            ) from error
        except httpx.HTTPError as error:
            raise SubgraphRequestError(
                service, f"subgraph {service!r} could not be reached: {type(error).__name__}"
            ) from error
        try:
            decoded = jsonio.loads(response.content)
        except ValueError as error:
            raise SubgraphRequestError(
                service, f"subgraph {service!r} answered HTTP {response.status_code} without JSON"
            ) from error
        if not isinstance(decoded, dict) or ("data" not in decoded and "errors" not in decoded):
            raise SubgraphRequestError(
                service, f"subgraph {service!r} answered HTTP {response.status_code} without data"
            )
        return decoded

    async def aclose(self) -> None:
        await self.client.aclose()
