"""Pooled keep-alive HTTP to subgraphs over aiohttp (the `bench` extra): measured against
the hand-written client in bench/README.md.

aiohttp never resends a POST (it retries only methods idempotent in HTTP), so `idempotent`
changes nothing here."""

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp

from router import jsonio
from router.transport.base import (
    DEFAULT_MAX_RESPONSE_BYTES,
    SubgraphRequestError,
    decode_answer,
    response_too_large,
)
from router.transport.multipart import PREFLIGHT_HEADER, encode_multipart

_HEADERS = {"content-type": "application/json", "accept": "application/json"}
_READ_SIZE = 64 * 1024


class _TooLarge(Exception):
    pass


class AiohttpTransport:
    def __init__(
        self,
        urls: Mapping[str, str],
        timeout: float = 30.0,
        timeouts: Mapping[str, float] | None = None,
        max_connections: int = 512,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.urls = dict(urls)
        self.timeouts = {name: (timeouts or {}).get(name, timeout) for name in urls}
        self.max_connections = max_connections
        self.max_response_bytes = max_response_bytes
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        """Made on first use: a session belongs to the running event loop."""
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self.max_connections, ttl_dns_cache=None)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

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
        timeout = self.timeouts[service]
        try:
            async with asyncio.timeout(timeout):
                status, content = await self._exchange(self.urls[service], body, headers)
        except TimeoutError as error:
            raise SubgraphRequestError(
                service, f"subgraph {service!r} timed out after {timeout}s", "SUBGRAPH_TIMEOUT"
            ) from error
        except _TooLarge as error:
            raise response_too_large(service, self.max_response_bytes) from error
        except aiohttp.ClientError as error:
            raise SubgraphRequestError(
                service, f"subgraph {service!r} could not be reached: {type(error).__name__}"
            ) from error
        return decode_answer(service, status, content)

    async def _exchange(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, bytes]:
        limit = self.max_response_bytes
        async with self._client().post(url, data=body, headers=headers) as response:
            if (response.content_length or 0) > limit:
                response.close()  # drops the connection instead of reading the rest
                raise _TooLarge
            chunks: list[bytes] = []
            total = 0
            async for chunk in response.content.iter_chunked(_READ_SIZE):
                total += len(chunk)
                if total > limit:
                    response.close()
                    raise _TooLarge
                chunks.append(chunk)
            return response.status, b"".join(chunks)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
