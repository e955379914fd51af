"""uvicorn's WebSocket protocol (websockets, sans-I/O), leaner per connection, for the
router and every subgraph.

permessage-deflate: uvicorn accepts it with 4 KiB windows and zlib's memLevel 5, about
40 KiB of compressor and decompressor state per connection, held for as long as it is open.
Subscription events are small JSON messages (well under a kilobyte), so when deflate is on,
a 1 KiB window and memLevel 3 compress them nearly as well for about a quarter of that
(21 KiB). An app may decline it altogether: its lifespan state says so under `DEFLATE`
(the router does unless `subscription.permessage_deflate` is on, as Apollo Router never
negotiates it); without that key, uvicorn's `ws_per_message_deflate` decides.

Once the handshake is answered, the parsed upgrade request and the response uvicorn keeps
are never read again: they are let go, the request's headers emptied (about 7 KiB a
connection; the ASGI scope keeps the request's headers). The messages received wait for
the app in a `Mailbox` and writing waits on a `Flag` rather than an `asyncio.Queue` and
`Event` (3.3 and 0.9 KiB each; router/mailbox.py).

A text message on an open connection without permessage-deflate (the router's default) is
framed here and written at once: FIN, opcode 0x1 and the payload's length in 7, 16 or 64
bits (RFC 6455 5.2; a server's frames are unmasked), the same bytes websockets' `send_text`
makes, for about a tenth of its CPU. Anything else (binary, close, a deflate-negotiated
connection, a connection closing or closed, one whose writes are paused by the transport's
flow control) goes through uvicorn as before. The app may skip the ASGI message as well:
the scope's extensions carry `send_text_now` under `SEND_TEXT_NOW`, which writes an encoded
text message at once when the fast path applies and tells whether it did (when it did not,
nothing was written and the app sends as before).
"""

import asyncio
import logging
import struct
from typing import Any, Final

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.extensions.base import ServerExtensionFactory
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from router.mailbox import Flag, Mailbox
from router.subscriptions.protocols import SEND_TEXT_NOW

WINDOW_BITS: Final = 10  # 1 KiB windows, both ways (the client's when it lets us choose)
MEM_LEVEL: Final = 3
DEFLATE: Final = "websocket_permessage_deflate"  # the lifespan state's key (a bool)

_HEAD_16: Final = struct.Struct("!BBH").pack
_HEAD_64: Final = struct.Struct("!BBQ").pack


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final text frame (RFC 6455 5.2) carrying ``payload`` (UTF-8)."""
    length = len(payload)
    if length < 126:
        return bytes((0x81, length)) + payload
    if length < 65536:
        return _HEAD_16(0x81, 126, length) + payload
    return _HEAD_64(0x81, 127, length) + payload


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        extensions: list[ServerExtensionFactory] = []
        if app_state.get(DEFLATE, config.ws_per_message_deflate):
            extensions.append(
                ServerPerMessageDeflateFactory(
                    server_max_window_bits=WINDOW_BITS,
                    client_max_window_bits=WINDOW_BITS,
                    compress_settings={"memLevel": MEM_LEVEL},
                )
            )
        self.conn = ServerProtocol(
            extensions=extensions,
            max_size=config.ws_max_size,
            logger=logging.getLogger("uvicorn.error"),
        )
        # uvicorn calls put_nowait, get and empty on the one, wait, set and clear on the other
        self.queue: Mailbox[ASGIReceiveEvent] = Mailbox()  # type: ignore[assignment]
        self.writable: Flag = Flag()  # type: ignore[assignment]
        self.writable.set()
        self._handshake_kept = True

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if self.response.status_code == 101:  # (the app's task has not read the scope yet)
            self.scope["extensions"][SEND_TEXT_NOW] = self.send_text_now  # type: ignore[assignment]

    def send_text_now(self, payload: bytes) -> bool:
        """Write a text message (``payload``, UTF-8) at once if the connection is open, its
        writes are not paused and it has no extension (permessage-deflate) to apply;
        whether it did."""
        conn = self.conn
        if (
            self.close_sent
            or self.disconnected
            or not self.handshake_complete
            or self.initial_response is not None
            or not self.writable.is_set()
            or conn.state is not State.OPEN
            or conn.extensions
            or conn.expect_continuation_frame
            or conn.writes  # (something of websockets' own is waiting to go first)
            or self.transport.is_closing()
        ):
            return False
        self.transport.write(text_frame(payload))
        return True

    async def send(self, message: ASGISendEvent) -> None:
        if message["type"] == "websocket.send":
            text = message.get("text")
            if text is not None and message.get("bytes") is None:
                await self.writable.wait()
                if self.send_text_now(text.encode()):
                    return
        await super().send(message)
        if self._handshake_kept and self.handshake_complete:
            self._handshake_kept = False
            # (uvicorn reads them only until the handshake; websockets' parser keeps the
            # request until the connection closes, so its headers are emptied too)
            self.request.headers.clear()
            del self.request, self.response
