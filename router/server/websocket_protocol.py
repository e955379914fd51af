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
"""

import asyncio
import logging
from typing import Any, Final

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.extensions.base import ServerExtensionFactory
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.server import ServerProtocol

from router.mailbox import Flag, Mailbox

WINDOW_BITS: Final = 10  # 1 KiB windows, both ways (the client's when it lets us choose)
MEM_LEVEL: Final = 3
DEFLATE: Final = "websocket_permessage_deflate"  # the lifespan state's key (a bool)


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

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if self._handshake_kept and self.handshake_complete:
            self._handshake_kept = False
            # (uvicorn reads them only until the handshake; websockets' parser keeps the
            # request until the connection closes, so its headers are emptied too)
            self.request.headers.clear()
            del self.request, self.response
