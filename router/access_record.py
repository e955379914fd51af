"""What the access log says of one HTTP request, gathered while it is served: set by the
access log's middleware (`router.server.access_log`) in a context variable, so the layers
beneath the server note into it without being handed it (a `Transport` wrapper its subgraph
calls, the endpoint the operation and caller, `respond` the error codes answered)."""

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class AccessRecord:
    client: str | None = None  # who, once known (else the log names the peer address)
    operation_name: str | None = None
    operation_kind: str | None = None
    # (plain dicts: a `Counter` is made and counted into in Python, on every request)
    subgraph_calls: dict[str, int] = field(default_factory=dict)  # by subgraph
    errors: dict[str, int] = field(default_factory=dict)  # by extensions.code

    def note_errors(self, body: Mapping[str, Any]) -> None:
        for entry in body.get("errors") or ():
            extensions = entry.get("extensions") if isinstance(entry, dict) else None
            code = extensions.get("code") if isinstance(extensions, dict) else None
            name = code if isinstance(code, str) else "<none>"
            self.errors[name] = self.errors.get(name, 0) + 1


CURRENT: ContextVar[AccessRecord | None] = ContextVar("router_access_record", default=None)


def current_record() -> AccessRecord | None:
    """The record of the request being served, None when nothing logs it."""
    return CURRENT.get()
