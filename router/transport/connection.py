"""One keep-alive HTTP/1.1 connection to a subgraph, as an asyncio protocol.

The event loop hands each received piece to `data_received`, which parses the answer as it
comes (head, then a body framed by Content-Length, chunks or the end of the stream) and
completes the one future its exchange is waiting on: no stream reader, no task per read.
One exchange at a time; a connection with anything left over after an answer, or with
bytes arriving while idle, is not used again.
"""

import asyncio
import select
from typing import Final, cast

_MAX_HEAD: Final = 64 * 1024
_MAX_CHUNK_LINE: Final = 4 * 1024
_HEX_DIGITS: Final = b"0123456789abcdefABCDEF"

# what the connection is reading
_IDLE: Final = 0
_HEAD: Final = 1
_LENGTH: Final = 2
_CHUNKED: Final = 3
_UNTIL_CLOSE: Final = 4
_CLOSED: Final = 5

# where a chunked body is
_SIZE: Final = 0
_DATA: Final = 1
_DATA_END: Final = 2
_TRAILER: Final = 3

Answer = tuple[int, bytes, str | None]  # status, body, Cache-Control


class Unanswered(Exception):
    """The connection failed after the request was (perhaps partly) written, before any
    answer byte: the subgraph may or may not have received and executed it."""


class TooLarge(Exception):
    pass


class Connection(asyncio.Protocol):
    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int, deadlines: "Deadlines") -> None:
        self.loop = loop
        self.deadlines = deadlines
        self.deadline = 0.0  # of the exchange in flight, in loop time
        self.limit = limit  # the most body bytes an answer may have
        self.transport: asyncio.Transport | None = None
        self.poller = select.poll()
        self.idle_since = 0.0
        self.reusable = False  # after the last answer: kept alive, nothing left over
        self.state = _IDLE
        self.waiter: asyncio.Future[Answer] | None = None
        self.answered = False  # a byte of the current answer has come
        self.buffer = bytearray()  # a head (or chunk framing) not complete yet
        self.parts: list[bytes] = []
        self.remaining = 0  # body bytes still to come (Content-Length), or of this chunk
        self.received = 0  # body bytes so far (chunked, until close)
        self.chunk_state = _SIZE
        self.status = 0
        self.keep_alive = True
        self.policy: str | None = None

    # the event loop's side

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # (uvloop's: not a subclass)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            self.poller.register(sock.fileno(), select.POLLIN)

    def data_received(self, data: bytes) -> None:
        state = self.state
        if state == _LENGTH:  # the usual case: more of a body
            self._body(data)
        elif state == _HEAD:
            self.answered = True
            self._head(data)
        elif state == _CHUNKED:
            self.buffer += data
            self._chunks()
        elif state == _UNTIL_CLOSE:
            self.received += len(data)
            if self.received > self.limit:
                self._fail(TooLarge())
            else:
                self.parts.append(data)
        elif state == _IDLE:  # nothing was asked: the connection is out of step
            self._close()

    def eof_received(self) -> bool:
        if self.state == _UNTIL_CLOSE:
            self.keep_alive = False
            self._done(b"".join(self.parts))
        self._lost()
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        if self.state == _UNTIL_CLOSE and exc is None:  # (TLS: no separate end of stream)
            self.keep_alive = False
            self._done(b"".join(self.parts))
        self.transport = None
        self._lost()

    # the caller's side

    def usable(self, fresh_since: float) -> bool:
        """Idle since after `fresh_since`, and neither closed by the subgraph nor sent
        anything, as far as we can tell without writing to it: the event loop may not have
        read an end of stream, a reset or stray bytes yet (urllib3's `is_connection_dropped`)."""
        transport = self.transport
        return (
            self.state == _IDLE
            and self.idle_since > fresh_since
            and transport is not None
            and not transport.is_closing()
            and not self.poller.poll(0)
        )

    def exchange(self, request: bytes, deadline: float) -> "asyncio.Future[Answer]":
        """Writes `request`; the future gets the answer, or fails with `Unanswered`,
        `TooLarge`, `TimeoutError` (at the loop time `deadline`, or up to the granularity of
        its `Deadlines` later), `OSError` or `ValueError`."""
        waiter = self.loop.create_future()
        transport = self.transport
        if transport is None or self.state != _IDLE:
            waiter.set_exception(Unanswered())
            return waiter
        self.waiter = waiter
        self.deadline = deadline
        self.deadlines.watch(self)
        self.state = _HEAD
        self.answered = False
        self.reusable = False
        transport.write(request)
        return waiter

    def abandon(self) -> None:
        """The caller no longer waits (cancelled): the answer can never be read in step."""
        self._close()

    def close(self) -> None:
        self._close()

    # parsing

    def _head(self, data: bytes) -> None:
        buffer = self.buffer
        if buffer:  # the head so far, without its end: look for the end in what is new
            start = max(len(buffer) - 3, 0)
            buffer += data
            if buffer.find(b"\r\n\r\n", start) < 0:
                if len(buffer) > _MAX_HEAD:
                    self._fail(ValueError("the answer's head is too long"))
                return
            data = bytes(buffer)
            buffer.clear()
        while True:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                if len(data) > _MAX_HEAD:
                    self._fail(ValueError("the answer's head is too long"))
                else:
                    buffer += data
                return
            try:
                interim = self._parse_head(data[:end])
            except ValueError as error:
                self._fail(error)
                return
            data = data[end + 4 :]
            if not interim:
                break
        if self.state == _LENGTH:
            self._body(data)
        elif data:
            self.data_received(data)

    def _parse_head(self, head: bytes) -> bool:
        """Sets the answer's framing from its head; true for an interim (1xx) answer."""
        code = head[9:12]
        if not (head.startswith(b"HTTP/1.1 ") or head.startswith(b"HTTP/1.0 ")) or not (
            code.isdigit() and head[12:13] in (b" ", b"\r", b"")
        ):
            raise ValueError(f"not an HTTP/1.x status line: {head[:64]!r}")
        status = int(code)
        if status < 200:
            if status == 101:
                raise ValueError("the subgraph switched protocols")
            return True
        self.status = status
        lowered = head.lower()
        self.keep_alive = head[7] == 49 and (  # HTTP/1.1
            b"\r\nconnection:" not in lowered
            or b"close" not in _header(lowered, lowered, b"\r\nconnection:")
        )
        self.policy = None
        if b"\r\ncache-control:" in lowered:
            self.policy = _header(head, lowered, b"\r\ncache-control:").decode("latin-1")
        self.parts = []
        if status == 204 or status == 304:
            self.state = _LENGTH
            self.remaining = 0
        elif b"\r\ntransfer-encoding:" in lowered and b"chunked" in _header(
            lowered, lowered, b"\r\ntransfer-encoding:"
        ):
            self.state = _CHUNKED
            self.chunk_state = _SIZE
            self.received = 0
        elif b"\r\ncontent-length:" in lowered:
            length = _header(head, lowered, b"\r\ncontent-length:")
            if not length.isdigit():
                raise ValueError(f"invalid Content-Length: {length[:32]!r}")
            self.state = _LENGTH
            self.remaining = int(length)
        else:
            self.state = _UNTIL_CLOSE
            self.keep_alive = False
            self.received = 0
        return False

    def _body(self, data: bytes) -> None:
        remaining = self.remaining
        if remaining > self.limit:
            self._fail(TooLarge())
            return
        size = len(data)
        if size < remaining:
            self.parts.append(data)
            self.remaining = remaining - size
            return
        if size > remaining:  # more than was asked for: the connection is out of step
            self.keep_alive = False
            data = data[:remaining]
        parts = self.parts
        if parts:
            parts.append(data)
            data = b"".join(parts)
        self._done(data)

    def _chunks(self) -> None:
        buffer = self.buffer
        position = 0
        parts = self.parts
        while True:
            available = len(buffer) - position
            if self.chunk_state == _DATA:
                if not available:
                    break
                take = min(available, self.remaining)
                parts.append(bytes(buffer[position : position + take]))
                position += take
                self.remaining -= take
                if not self.remaining:
                    self.chunk_state = _DATA_END
                continue
            if self.chunk_state == _DATA_END:
                if available < 2:
                    break
                if buffer[position : position + 2] != b"\r\n":
                    self._fail(ValueError("a chunk does not end with CRLF"))
                    return
                position += 2
                self.chunk_state = _SIZE
                continue
            line_end = buffer.find(b"\r\n", position)
            if line_end < 0:
                if available > _MAX_CHUNK_LINE:
                    self._fail(ValueError("a chunk's size line is too long"))
                    return
                break
            line = bytes(buffer[position:line_end])
            position = line_end + 2
            if self.chunk_state == _TRAILER:
                if not line:  # the end of the trailers, and of the answer
                    if position < len(buffer):
                        self.keep_alive = False
                    self._done(b"".join(parts))
                    return
                continue
            size_text = line.split(b";", 1)[0].strip()
            if not size_text or size_text.strip(_HEX_DIGITS):
                self._fail(ValueError(f"invalid chunk size line: {line[:32]!r}"))
                return
            size = int(size_text, 16)
            if not size:
                self.chunk_state = _TRAILER
                continue
            self.received += size
            if self.received > self.limit:
                self._fail(TooLarge())
                return
            self.remaining = size
            self.chunk_state = _DATA
        del buffer[:position]

    # endings

    def _done(self, body: bytes) -> None:
        waiter = self.waiter
        self._settle()
        self.state = _IDLE
        self.buffer.clear()
        self.parts = []
        if self.keep_alive:
            self.reusable = True
            self.idle_since = self.loop.time()
        else:
            self._close()
        if waiter is not None and not waiter.done():
            waiter.set_result((self.status, body, self.policy))

    def _fail(self, error: Exception) -> None:
        waiter = self.waiter
        self._close()
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

    def expire(self) -> None:
        self._fail(TimeoutError())

    def _lost(self) -> None:
        if self.state == _IDLE or self.state == _CLOSED:
            self.state = _CLOSED
            return
        if self.answered:
            self._fail(ConnectionResetError("the subgraph closed the connection mid-answer"))
        else:
            self._fail(Unanswered())

    def _settle(self) -> None:
        self.waiter = None
        self.deadlines.pending.discard(self)

    def _close(self) -> None:
        self._settle()
        self.state = _CLOSED
        self.reusable = False
        if self.transport is not None:
            self.transport.close()


class Deadlines:
    """The deadlines of the exchanges in flight on some connections, checked by one timer
    every `granularity` seconds while there are any: cheaper than a timer per exchange
    (2.5 us to set and cancel one on uvloop); an exchange times out up to `granularity`
    late."""

    def __init__(self, granularity: float) -> None:
        self.granularity = granularity
        self.pending: set[Connection] = set()
        self.timer: asyncio.TimerHandle | None = None

    def watch(self, connection: Connection) -> None:
        self.pending.add(connection)
        if self.timer is None:
            self.timer = connection.loop.call_later(self.granularity, self._check, connection.loop)

    def _check(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        for connection in [c for c in self.pending if c.deadline <= now]:
            connection.expire()  # (and out of `pending`)
        self.timer = loop.call_later(self.granularity, self._check, loop) if self.pending else None

    def close(self) -> None:
        if self.timer is not None and not self.pending:
            self.timer.cancel()
            self.timer = None


def _header(head: bytes, lowered: bytes, name: bytes) -> bytes:
    """The value of the first header called `name` (lower case, after CRLF, with its colon),
    which `lowered` (`head` in lower case) has."""
    start = lowered.find(name) + len(name)
    end = head.find(b"\r\n", start)
    return head[start : end if end >= 0 else len(head)].strip()
