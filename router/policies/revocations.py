"""Tokens ended before they expire: what the router asks of a revocation list.

The router knows no identity provider, so it keeps no list of its own: whoever embeds it
plugs one in (`JwtConfig.revocations`; the platform's is `common/auth/revocations.py`,
wired by `lms router serve --revocations-redis`). A token it calls revoked is refused with
401 on HTTP, and a WebSocket connection authenticated by it ends when it is revoked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

SESSION_ENDED: Final = "This session has ended; sign in again."


class Revocations(Protocol):
    async def start(self) -> None:
        """Begin following the list (the router calls it at start-up)."""

    async def aclose(self) -> None:
        """Stop following it, and release what it holds (at shutdown)."""

    def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        """Whether the verified token of these claims has been revoked (no I/O: per request)."""

    def watch(self, claims: Mapping[str, Any], ended: Callable[[], None]) -> Callable[[], None]:
        """Call ``ended`` once, when the token of these claims is revoked; returns what
        stops watching."""
