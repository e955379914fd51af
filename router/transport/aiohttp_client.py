"""Pooled keep-alive HTTP to subgraphs over aiohttp (`--client aiohttp`, the `bench` extra):
measured against the hand-written client in bench/README.md."""

from collections.abc import Mapping

import aiohttp

from router.transport.base import DEFAULT_MAX_RESPONSE_BYTES
from router.transport.library import AnswerTooLarge, LibraryTransport, read_bounded

_READ_SIZE = 64 * 1024


class AiohttpTransport(LibraryTransport):
    unreachable = (aiohttp.ClientError,)

    def __init__(
        self,
        urls: Mapping[str, str],
        timeout: float = 30.0,
        timeouts: Mapping[str, float] | None = None,
        max_connections: int = 512,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        super().__init__(urls, timeout, timeouts, max_response_bytes)
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        """Made on first use: a session belongs to the running event loop."""
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self.max_connections, ttl_dns_cache=None)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def exchange(
        self, url: str, body: bytes, headers: Mapping[str, str], seconds: float
    ) -> tuple[int, bytes, str | None]:
        async with self._client().post(url, data=body, headers=headers) as response:
            try:
                content = await read_bounded(
                    response.content.iter_chunked(_READ_SIZE),
                    response.content_length,
                    self.max_response_bytes,
                )
            except AnswerTooLarge:
                response.close()  # drops the connection instead of reading the rest
                raise
            return response.status, content, response.headers.get("cache-control")

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
