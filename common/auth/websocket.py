"""Credentials of a GraphQL WebSocket client, for the router and the subgraphs alike."""

from collections.abc import Mapping
from typing import Any


def authorization_from(payload: Any, headers: Mapping[str, str]) -> str | None:
    """The credentials of a WebSocket client: the `connection_init` payload's Authorization
    (any case; "Bearer <token>", or the bare token), else the upgrade request's header."""
    if isinstance(payload, Mapping):
        for source in (payload, payload.get("headers")):
            if not isinstance(source, Mapping):
                continue
            for key, value in source.items():
                if isinstance(key, str) and key.lower() == "authorization":
                    if not isinstance(value, str) or not value.strip():
                        return None
                    value = value.strip()
                    return value if " " in value else f"Bearer {value}"
    return headers.get("authorization")
