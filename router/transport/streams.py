"""A lean HTTP/1.1 keep-alive client on asyncio streams, for subgraph POSTs only.

httpx costs about a millisecond of CPU per subgraph call and its pool slows down as
concurrency grows; subgraph traffic needs far less: POST a JSON body to a handful of
known origins and read a JSON answer (Content-Length, chunked or until close).
"""

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from router import jsonio
from router.transport.base import SubgraphRequestError
from router.transport.multipart import PREFLIGHT_HEADER, encode_multipart

_MAX_HEAD = 64 * 1024
_JSON = b"content-type: application/json\r\n"


@dataclass
class _Origin:
    host: str
    port: int
    tls: ssl.SSLContext | None
    path: bytes
    host_header: bytes
    limit: asyncio.Semaphore
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = field(default_factory=list)

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self.host, self.port, ssl=self.tls, limit=_MAX_HEAD)

    def take_idle(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """An idle connection the subgraph has not closed (as far as we have heard)."""
        while self.idle:
            reader, writer = self.idle.pop()
            if not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()
        return None


def _origin(url: str, max_connections: int) -> _Origin:
    parts = urlsplit(url)
    tls = ssl.create_default_context() if parts.scheme == "https" else None
    port = parts.port or (443 if tls else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = (tls is None and port == 80) or (tls is not None and port == 443)
    host_header = parts.hostname or "localhost"
    if not default_port:
        host_header = f"{host_header}:{port}"
    return _Origin(
        parts.hostname or "localhost",
        port,
        tls,
        path.encode(),
        host_header.encode(),
        asyncio.Semaphore(max_connections),
    )


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    status = int(status_line[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    keep_alive = headers.get("connection", "").lower() != "close" and status_line[0] != "HTTP/1.0"
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return status, await _read_chunked(reader), keep_alive
    length = headers.get("content-length")
    if length is not None:
        return status, await reader.readexactly(int(length)), keep_alive
    return status, await reader.read(), False


class StreamTransport:
    """Implements `Transport` with pooled keep-alive connections per subgraph origin."""

    def __init__(
        self,
        urls: Mapping[str, str],
        timeout: float = 30.0,
        timeouts: Mapping[str, float] | None = None,
        max_connections: int = 128,
    ) -> None:
        self.origins = {name: _origin(url, max_connections) for name, url in urls.items()}
        self.timeouts = {name: (timeouts or {}).get(name, timeout) for name in urls}

    async def send(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> dict[str, Any]:
        return await self._post(service, _JSON, jsonio.dumps(payload), headers)

    async def send_multipart(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> dict[str, Any]:
        body, content_type = encode_multipart(payload)
        own = f"content-type: {content_type}\r\n{PREFLIGHT_HEADER}: true\r\n".encode("latin-1")
        return await self._post(service, own, body, headers)

    async def _post(
        self, service: str, content_headers: bytes, body: bytes, headers: Mapping[str, str]
    ) -> dict[str, Any]:
        origin = self.origins[service]
        timeout = self.timeouts[service]
        extra = "".join(f"{name}: {_clean(value)}\r\n" for name, value in headers.items())
        head = (
            b"POST "
            + origin.path
            + b" HTTP/1.1\r\nhost: "
            + origin.host_header
            + b"\r\n"
            + content_headers
            + b"accept: application/json\r\n"
            + f"content-length: {len(body)}\r\n{extra}\r\n".encode("latin-1")
        )
        try:
            async with asyncio.timeout(timeout):
                status, content = await self._exchange(origin, head + body)
        except TimeoutError as error:
            raise SubgraphRequestError(
                service, f"subgraph {service!r} timed out after {timeout}s", "SUBGRAPH_TIMEOUT"
            ) from error
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
            raise SubgraphRequestError(
                service, f"subgraph {service!r} could not be reached: {type(e).__name__}"
            ) from e
        return _decode(service, status, content)

    async def _exchange(self, origin: _Origin, request: bytes) -> tuple[int, bytes]:
        async with origin.limit:
            for attempt in range(2):
                connection = origin.take_idle() if attempt == 0 else None
                reused = connection is not None
                reader, writer = connection or await origin.connect()
                try:
                    writer.write(request)
                    status, content, keep_alive = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError):
                    writer.close()
                    if reused:
                        continue  # the subgraph closed an idle connection: a fresh one
                    raise
                except BaseException:
                    writer.close()
                    raise
                if keep_alive:
                    origin.idle.append((reader, writer))
                else:
                    writer.close()
                return status, content
        raise OSError("unreachable")

    async def aclose(self) -> None:
        for origin in self.origins.values():
            while origin.idle:
                _, writer = origin.idle.pop()
                writer.close()


def _clean(value: str) -> str:
    return value.replace("\r", "").replace("\n", "")


def _decode(service: str, status: int, content: bytes) -> dict[str, Any]:
    try:
        decoded = jsonio.loads(content)
    except ValueError as error:
        raise SubgraphRequestError(
            service, f"subgraph {service!r} answered HTTP {status} without JSON"
        ) from error
    if not isinstance(decoded, dict) or ("data" not in decoded and "errors" not in decoded):
        raise SubgraphRequestError(
            service, f"subgraph {service!r} answered HTTP {status} without data"
        )
    return decoded
