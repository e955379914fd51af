"""Pooled keep-alive HTTP to subgraphs over httpx (`--client httpx`).

httpcore never writes a request twice: an idle connection is checked before reuse and a
failure after writing is raised."""

import sys
from collections.abc import Mapping

import httpx

from router.transport.base import DEFAULT_MAX_RESPONSE_BYTES
from router.transport.library import LibraryTransport, read_bounded

# httpcore asks `import sniffio` on every request; when sniffio is absent each failed import
# searches sys.path again (about a fifth of the router's CPU time under load). Recording the
# absence once makes that import fail fast, exactly as before but without the search.
sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]


class HttpTransport(LibraryTransport):
    unreachable = (httpx.HTTPError,)

    def __init__(
        self,
        urls: Mapping[str, str],
        timeout: float = 30.0,
        timeouts: Mapping[str, float] | None = None,
        max_connections: int = 512,
        client: httpx.AsyncClient | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        super().__init__(urls, timeout, timeouts, max_response_bytes)
        self.client = client or httpx.AsyncClient(
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            timeout=timeout,
        )

    async def exchange(
        self, url: str, body: bytes, headers: Mapping[str, str], seconds: float
    ) -> tuple[int, bytes, str | None]:
        request = self.client.build_request(
            "POST", url, content=body, headers=headers, timeout=seconds
        )
        try:
            response = await self.client.send(request, stream=True)
            try:  # leaving the stream early closes its connection
                declared = int(response.headers.get("content-length", 0))
                content = await read_bounded(
                    response.aiter_bytes(), declared, self.max_response_bytes
                )
            finally:
                await response.aclose()
        except httpx.TimeoutException as error:
            raise TimeoutError from error
        return response.status_code, content, response.headers.get("cache-control")

    async def aclose(self) -> None:
        await self.client.aclose()
