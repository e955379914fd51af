"""HTTP compression both ways.

Answers: brotli or gzip as the client's `Accept-Encoding` prefers (q-values, `*`,
`identity`; brotli on a tie), for JSON, HTML, CSS and JavaScript (GraphiQL's bundles) of at
least `MIN_SIZE` bytes; every answer of those types carries `Vary: Accept-Encoding`.

Requests: a body in `Content-Encoding` gzip, br or deflate is decoded as it is read, in
chunks of at most `CHUNK` bytes, so the router's body limits (`limits.http_max_request_bytes`,
and 1 MiB for a JSON body) bound the *decoded* size: a zip bomb is refused with 413
`PAYLOAD_TOO_LARGE` after at most a limit's worth of work, never decoded whole. The encoded
body is bounded by the largest of those limits too (a brotli stream can hold input that
decodes to nothing). A body that does not decode is refused with 400
`INVALID_CONTENT_ENCODING`, any other (or a stack of) encodings with 415
`UNSUPPORTED_CONTENT_ENCODING`. Multipart uploads are decoded the same way: the whole
multipart body is one encoded stream, bounded by the upload limits once decoded."""

import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Protocol

import brotli
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from router.errors import error
from router.gateway.gateway import GraphQLResponse
from router.server.errors import BadRequest
from router.server.headers import (
    add_vary,
    delete_header,
    first_value,
    header,
    response_headers,
    set_header,
)
from router.server.http import respond

MIN_SIZE = 1024
CHUNK = 64 * 1024
COMPRESSIBLE = frozenset(
    {
        "application/json",
        "application/graphql-response+json",
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
    }
)
ENCODINGS = ("br", "gzip")  # answers, preferred first when the client weighs them equally
DECODINGS = ("gzip", "br", "deflate")  # request bodies
_PARTIAL_OR_EMPTY = frozenset({204, 206, 304})


def negotiate(accept_encoding: str | None) -> str | None:
    """The encoding to answer in, None for identity (RFC 9110 section 12.5.3)."""
    if not accept_encoding:
        return None
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, _, parameters = item.partition(";")
        coding = coding.strip().lower()
        weight = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0
                if not 0.0 <= weight <= 1.0:  # (NaN too)
                    weight = 0.0
        if coding:
            weights["gzip" if coding == "x-gzip" else coding] = weight
    other = weights.get("*", 0.0)
    best = max(ENCODINGS, key=lambda coding: weights.get(coding, other))
    return best if weights.get(best, other) > 0 else None


class _Encoder(Protocol):
    def compress(self, data: bytes) -> bytes: ...
    def finish(self) -> bytes: ...


class _Gzip:
    def __init__(self) -> None:
        self._zlib = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)

    def compress(self, data: bytes) -> bytes:
        return self._zlib.compress(data)

    def finish(self) -> bytes:
        return self._zlib.flush()


class _Brotli:
    def __init__(self) -> None:
        self._brotli = brotli.Compressor(mode=brotli.MODE_TEXT, quality=5)  # fast, for answers

    def compress(self, data: bytes) -> bytes:
        out: bytes = self._brotli.process(data)
        return out

    def finish(self) -> bytes:
        out: bytes = self._brotli.finish()
        return out


def _encoder(coding: str) -> _Encoder:
    return _Brotli() if coding == "br" else _Gzip()


class _CompressingSend:
    """Wraps `send`: the answer compressed in `coding` when its type and size call for it."""

    def __init__(self, send: Send, coding: str | None) -> None:
        self._send = send
        self._coding = coding
        self._start: Message | None = None
        self._encoder: _Encoder | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._start = message  # sent with the first part of the body, once decided
            return
        if message["type"] != "http.response.body":  # (a file sent by the server itself)
            if self._start is not None:
                start, self._start = self._start, None
                await self._send(start)
            await self._send(message)
            return
        more = message.get("more_body", False)
        body: bytes = message.get("body", b"")
        if self._start is not None:
            start, self._start = self._start, None
            headers = response_headers(start)
            coding = self._coding_for(start["status"], headers, body, more)
            if coding is not None:
                self._encoder = _encoder(coding)
                set_header(headers, b"content-encoding", coding.encode())
                delete_header(headers, b"content-length")
                if not more:  # the whole body at once: its compressed length is known
                    body = self._encoder.compress(body) + self._encoder.finish()
                    set_header(headers, b"content-length", b"%d" % len(body))
                    self._encoder = None
            await self._send(start)
        if self._encoder is not None:
            body = self._encoder.compress(body)
            if not more:
                body += self._encoder.finish()
        await self._send({"type": "http.response.body", "body": body, "more_body": more})

    def _coding_for(
        self, status: int, headers: list[tuple[bytes, bytes]], body: bytes, more: bool
    ) -> str | None:
        content_type = (first_value(headers, b"content-type") or b"").decode("latin-1")
        media_type = content_type.split(";")[0].strip().lower()
        if (
            media_type not in COMPRESSIBLE
            or first_value(headers, b"content-encoding") is not None
            or status in _PARTIAL_OR_EMPTY
        ):
            return None
        add_vary(headers, b"Accept-Encoding")
        if not more and len(body) < MIN_SIZE:
            return None
        return self._coding


# ---- request bodies ----


def _undecodable(coding: str) -> BadRequest:
    return BadRequest(
        f"the request body is not valid {coding} (its Content-Encoding)",
        400,
        "INVALID_CONTENT_ENCODING",
    )


class _Decoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes, in parts of at most `CHUNK` bytes."""
        ...

    def finish(self) -> None:
        """Raises `BadRequest` when the encoded stream ended before its end."""
        ...


class _Inflater:
    def __init__(self, coding: str) -> None:
        self._coding = coding
        wbits = 16 + zlib.MAX_WBITS if coding == "gzip" else zlib.MAX_WBITS  # deflate: zlib
        self._zlib = zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            try:
                out = self._zlib.decompress(data, CHUNK)
            except zlib.error as problem:
                raise _undecodable(self._coding) from problem
            if self._zlib.unused_data:  # anything after the end of the stream
                raise _undecodable(self._coding)
            if out:
                yield out
            data = self._zlib.unconsumed_tail
            if not data and len(out) < CHUNK:
                return

    def finish(self) -> None:
        if not self._zlib.eof:
            raise _undecodable(self._coding)


class _Unbrotli:
    def __init__(self) -> None:
        self._brotli = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            out = self._brotli.process(data, output_buffer_limit=CHUNK)
            while True:
                if out:
                    yield out
                if self._brotli.can_accept_more_data():
                    return
                out = self._brotli.process(b"", output_buffer_limit=CHUNK)
        except brotli.error as problem:
            raise _undecodable("br") from problem

    def finish(self) -> None:
        if not self._brotli.is_finished():
            raise _undecodable("br")


def _decoder(coding: str) -> _Decoder:
    return _Unbrotli() if coding == "br" else _Inflater(coding)


async def _decoded(receive: Receive, decoder: _Decoder, limit: int) -> AsyncIterator[Message]:
    """The request's messages with their bodies decoded."""
    read = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            yield message
            return
        more = message.get("more_body", False)
        body: bytes = message.get("body", b"")
        read += len(body)
        if read > limit:
            raise BadRequest(
                f"the request body is larger than {limit} bytes", 413, "PAYLOAD_TOO_LARGE"
            )
        for part in decoder.feed(body):
            yield {"type": "http.request", "body": part, "more_body": True}
    decoder.finish()
    yield {"type": "http.request", "body": b"", "more_body": False}


class _DecodingReceive:
    def __init__(self, receive: Receive, decoder: _Decoder, limit: int) -> None:
        self._receive = receive
        self._messages: AsyncIterator[Message] | None = _decoded(receive, decoder, limit)

    async def __call__(self) -> Message:
        if self._messages is not None:
            try:
                return await anext(self._messages)
            except StopAsyncIteration:
                self._messages = None
        return await self._receive()  # after the body: a disconnect, when it comes


def _without(scope: Scope, names: frozenset[bytes]) -> Scope:
    headers = [(k, v) for k, v in scope["headers"] if k.lower() not in names]
    return {**scope, "headers": headers}


def _unsupported(coding: str) -> GraphQLResponse:
    message = (
        f"unsupported Content-Encoding {coding!r}: send the body as it is, "
        f"or in one of {', '.join(DECODINGS)}"
    )
    return GraphQLResponse(415, {"errors": [error(message, "UNSUPPORTED_CONTENT_ENCODING")]})


class CompressionMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _CompressingSend(send, negotiate(header(scope, b"accept-encoding")))
        coding = (header(scope, b"content-encoding") or "identity").strip().lower()
        if coding != "identity":
            if coding not in DECODINGS:
                response = respond(Request(scope), _unsupported(coding))
                response.headers["accept-encoding"] = ", ".join(DECODINGS)
                await response(scope, receive, send)
                return
            limit: int = scope["app"].state.router.uploads.max_bytes
            receive = _DecodingReceive(receive, _decoder(coding), limit)
            scope = _without(scope, frozenset({b"content-encoding", b"content-length"}))
        await self.app(scope, receive, send)
