"""The security headers of the GraphiQL page and of its files."""

from __future__ import annotations

import re

# A Host header fit to name in a policy (a name or address and a port), nothing else.
_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")

_COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def page_headers(host: str | None) -> dict[str, str]:
    """Scripts and styles only from this origin (no inline script, no eval), fonts and images
    also inline (GraphiQL's stylesheet embeds them), requests to this origin over HTTP and
    WebSocket (subscriptions), never framed."""
    sockets = f" ws://{host} wss://{host}" if host and _HOST.fullmatch(host) else ""
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; font-src 'self' data:; "
        f"connect-src 'self'{sockets}; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return {**_COMMON, "Content-Security-Policy": policy, "Cache-Control": "no-cache"}


def asset_headers(found: bool) -> dict[str, str]:
    """A file's name changes with its content, so a browser may keep it for a year (and
    nothing of a miss)."""
    return {
        **_COMMON,
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
        "Cache-Control": "public, max-age=31536000, immutable" if found else "no-store",
    }
