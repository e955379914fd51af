"""Credentials of a GraphQL WebSocket client.

Browsers cannot set headers on a WebSocket upgrade, so clients put them in the
``connection_init`` payload instead: at its top level (``{"Authorization": "Bearer …"}``,
``{"X-API-Key": "…"}``) or under ``headers``. Names are matched in any case; a bare token as
Authorization means a bearer token. (The platform's subgraphs read the same convention in
`common/auth/websocket.py`; the router, standing alone, reads it here.)
"""

from collections.abc import Mapping
from typing import Any


def connection_headers(payload: Any, headers: Mapping[str, str]) -> dict[str, str]:
    """The upgrade request's headers (lower-case names), overridden by those the
    ``connection_init`` payload carries. An Authorization entry that is not a non-empty
    string erases the header's (the client meant to send something, and sent nothing)."""
    merged = {name.lower(): value for name, value in headers.items()}
    if not isinstance(payload, Mapping):
        return merged
    for source in (payload.get("headers"), payload):
        if not isinstance(source, Mapping):
            continue
        for key, value in source.items():
            if not isinstance(key, str) or key.lower() == "headers":
                continue
            name = key.lower()
            if name == "authorization":
                value = value.strip() if isinstance(value, str) else ""
                merged[name] = value if " " in value or not value else f"Bearer {value}"
            elif isinstance(value, str):
                merged[name] = value
    return merged
