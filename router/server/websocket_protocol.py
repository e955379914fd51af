"""uvicorn's WebSocket protocol (websockets, sans-I/O) with smaller permessage-deflate
windows, for the router and every subgraph.

Browsers offer permessage-deflate, and uvicorn accepts it with 4 KiB windows and zlib's
memLevel 5: about 40 KiB of compressor and decompressor state per connection, held for as
long as it is open (bench/subscriptions.py measured 113 against 72 KiB per subscription at
the router with and without deflate). Subscription events are small JSON messages (well
under a kilobyte), so a 1 KiB window and memLevel 3 compress them nearly as well for about
a quarter of the memory.

Once the handshake is answered, the parsed upgrade request and the response uvicorn keeps
are never read again: they are let go (about 4 KiB a connection; the ASGI scope keeps the
request's headers).
"""

import asyncio
import logging
from typing import Any, Final

from uvicorn._types import ASGISendEvent
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.server import ServerProtocol

WINDOW_BITS: Final = 10  # 1 KiB windows, both ways (the client's when it lets us choose)
MEM_LEVEL: Final = 3


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        if config.ws_per_message_deflate:
            deflate = ServerPerMessageDeflateFactory(
                server_max_window_bits=WINDOW_BITS,
                client_max_window_bits=WINDOW_BITS,
                compress_settings={"memLevel": MEM_LEVEL},
            )
            self.conn = ServerProtocol(
                extensions=[deflate],
                max_size=config.ws_max_size,
                logger=logging.getLogger("uvicorn.error"),
            )
        self._handshake_kept = True

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if self._handshake_kept and self.handshake_complete:
            self._handshake_kept = False
            del self.request, self.response  # (uvicorn reads them only until the handshake)
