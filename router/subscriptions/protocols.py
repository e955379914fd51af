"""The two WebSocket subprotocols clients speak, as data: message names and close codes.

- graphql-transport-ws (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md):
  subscribe / next / error / complete, ping / pong, and close codes 44xx.
- graphql-ws, the legacy protocol of subscriptions-transport-ws: start / data / error /
  complete / stop, `ka` keep-alives, `connection_error` when the connection is refused.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

# The ASGI scope's extension under which the router's WebSocket server offers to write an
# encoded text message at once (router/server/websocket_protocol.py): it answers whether it
# did; when it did not, nothing was written and the message is sent as an ASGI message.
SEND_TEXT_NOW: Final = "router.websocket.send_text_now"
SendTextNow = Callable[[bytes], bool]


class CloseCode(IntEnum):
    NORMAL = 1000
    INTERNAL_ERROR = 1011
    TRY_AGAIN_LATER = 1013  # the client read too slowly; it may reconnect and catch up
    BAD_REQUEST = 4400
    UNAUTHORIZED = 4401  # subscribe before connection_ack
    FORBIDDEN = 4403  # credentials refused or expired; reconnect with fresh ones
    SUBPROTOCOL_NOT_ACCEPTABLE = 4406
    INIT_TIMEOUT = 4408
    SUBSCRIBER_EXISTS = 4409
    TOO_MANY_INITIALISATIONS = 4429


@dataclass(frozen=True, slots=True)
class Protocol:
    name: str
    subscribe: str
    stop: str  # the client ends an operation
    next: str
    keepalive: str  # sent by the server every keep-alive interval
    legacy: bool


TRANSPORT_WS: Final = Protocol(
    name="graphql-transport-ws",
    subscribe="subscribe",
    stop="complete",
    next="next",
    keepalive="ping",
    legacy=False,
)
LEGACY_WS: Final = Protocol(
    name="graphql-ws",
    subscribe="start",
    stop="stop",
    next="data",
    keepalive="ka",
    legacy=True,
)
PROTOCOLS: Final = (TRANSPORT_WS, LEGACY_WS)


def choose(offered: list[str]) -> Protocol | None:
    """The protocol to speak, preferring graphql-transport-ws; None when neither is offered."""
    for protocol in PROTOCOLS:
        if protocol.name in offered:
            return protocol
    return None
