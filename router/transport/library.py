"""What the subgraph clients built on an HTTP library (httpx, aiohttp) share: the JSON and
multipart requests, per-subgraph timeouts, the answer size bound and the error mapping. Each
library supplies one exchange: POST a body, read the answer no further than the bound.

Both libraries retry only requests idempotent in HTTP, never a POST, so `idempotent` changes
nothing here: a request that was written is never written again."""

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from router import jsonio
from router.transport.base import (
    DEFAULT_MAX_RESPONSE_BYTES,
    SubgraphRequestError,
    decode_answer,
    response_too_large,
)
from router.transport.multipart import PREFLIGHT_HEADER, encode_multipart

_JSON = {"content-type": "application/json", "accept": "application/json"}


class AnswerTooLarge(Exception):
    """The subgraph's answer passed the bound while it was read."""


async def read_bounded(chunks: AsyncIterator[bytes], declared: int | None, limit: int) -> bytes:
    if (declared or 0) > limit:
        raise AnswerTooLarge
    kept: list[bytes] = []
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise AnswerTooLarge
        kept.append(chunk)
    return b"".join(kept)


class LibraryTransport:
    # the library's own errors for a subgraph it could not reach or read
    unreachable: tuple[type[BaseException], ...] = ()

    def __init__(
        self,
        urls: Mapping[str, str],
        timeout: float,
        timeouts: Mapping[str, float] | None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.urls = dict(urls)
        self.timeouts = {name: (timeouts or {}).get(name, timeout) for name in urls}
        self.default_timeout = timeout
        self.max_response_bytes = max_response_bytes

    async def send(
        self,
        service: str,
        payload: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        idempotent: bool = False,
    ) -> dict[str, Any]:
        return await self._post(service, jsonio.dumps(payload), {**_JSON, **headers})

    async def send_multipart(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> dict[str, Any]:
        body, content_type = encode_multipart(payload)
        own = {"content-type": content_type, "accept": "application/json", PREFLIGHT_HEADER: "true"}
        return await self._post(service, body, {**own, **headers})

    async def _post(self, service: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        seconds = self.timeouts.get(service, self.default_timeout)
        try:
            async with asyncio.timeout(seconds):
                status, content, policy = await self.exchange(
                    self.urls[service], body, headers, seconds
                )
        except AnswerTooLarge as error:
            raise response_too_large(service, self.max_response_bytes) from error
        except TimeoutError as error:
            raise SubgraphRequestError(
                service, f"subgraph {service!r} timed out after {seconds}s", "SUBGRAPH_TIMEOUT"
            ) from error
        except self.unreachable as error:
            raise SubgraphRequestError(
                service, f"subgraph {service!r} could not be reached: {type(error).__name__}"
            ) from error
        return decode_answer(service, status, content, policy)

    async def exchange(
        self, url: str, body: bytes, headers: Mapping[str, str], seconds: float
    ) -> tuple[int, bytes, str | None]:
        """The answer's status, body and `Cache-Control` header, within `seconds`
        (TimeoutError past them), read no further than `max_response_bytes` (AnswerTooLarge)."""
        raise NotImplementedError
