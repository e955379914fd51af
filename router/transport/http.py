"""Pooled keep-alive HTTP to subgraphs over httpx.

httpcore never writes a request twice: an idle connection is checked before reuse and a
failure after writing is raised, so `idempotent` changes nothing here."""

import asyncio
import sys
from collections.abc import Mapping
from typing import Any

import httpx

from router import jsonio
from router.transport.base import (
    DEFAULT_MAX_RESPONSE_BYTES,
    SubgraphRequestError,
    decode_answer,
    response_too_large,
)
from router.transport.multipart import PREFLIGHT_HEADER, encode_multipart

# httpcore asks `import sniffio` on every request; when sniffio is absent each failed import
# searches sys.path again (about a fifth of the router's CPU time under load). Recording the
# absence once makes that import fail fast, exactly as before but without the search.
sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]


class _TooLarge(Exception):
    pass


_HEADERS = {"content-type": "application/json", "accept": "application/json"}


class HttpTransport:
    def __init__(
        self,
        urls: Mapping[str, str],
        timeout: float = 30.0,
        timeouts: Mapping[str, float] | None = None,
        max_connections: int = 512,
        client: httpx.AsyncClient | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.max_response_bytes = max_response_bytes
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
        self,
        service: str,
        payload: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        idempotent: bool = False,
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
                status, content = await self._exchange(url, body, headers, seconds=timeout)
        except _TooLarge as error:
            raise response_too_large(service, self.max_response_bytes) from error
        except (TimeoutError, httpx.TimeoutException) as error:
            raise SubgraphRequestError(
                service, f"subgraph {service!r} timed out after {timeout}s", "SUBGRAPH_TIMEOUT"
            ) from error
        except httpx.HTTPError as error:
            raise SubgraphRequestError(
                service, f"subgraph {service!r} could not be reached: {type(error).__name__}"
            ) from error
        return decode_answer(service, status, content)

    async def _exchange(
        self, url: str, body: bytes, headers: Mapping[str, str], seconds: float
    ) -> tuple[int, bytes]:
        """The status and body, read no further than `max_response_bytes` (leaving the
        stream early closes its connection)."""
        limit = self.max_response_bytes
        request = self.client.build_request(
            "POST", url, content=body, headers=headers, timeout=seconds
        )
        response = await self.client.send(request, stream=True)
        try:
            if int(response.headers.get("content-length", 0)) > limit:
                raise _TooLarge
            chunks: list[bytes] = []
            total = 0
            async for chunk in response.aiter_bytes():
                total += len(chunk)
                if total > limit:
                    raise _TooLarge
                chunks.append(chunk)
        finally:
            await response.aclose()
        return response.status_code, b"".join(chunks)

    async def aclose(self) -> None:
        await self.client.aclose()
