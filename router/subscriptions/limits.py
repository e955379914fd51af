"""How far one client WebSocket may go (`router serve --ws-*`)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SubscriptionLimits:
    init_timeout: float = 10.0  # seconds to send connection_init
    keepalive: float = 15.0  # seconds between the server's pings (or `ka`)
    queue_size: int = 256  # messages waiting for a client before it is cut off as too slow
    max_operations: int = 100  # operations at once on one connection
    max_message_bytes: int = 256 * 1024
