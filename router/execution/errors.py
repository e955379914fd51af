"""Subgraph errors as the client sees them: paths rewritten to its response names, codes."""

from typing import Any

from router.errors import error
from router.planning.selection import ALIAS_MARKER, SCOPED_MARKER
from router.supergraph.requires import REQUIRES_ALIAS


def subgraph_error(raw: Any, service: str, path: list[str | int] | None) -> dict[str, Any]:
    if not isinstance(raw, dict):
        return error(f"subgraph {service!r} returned a malformed error", "SUBGRAPH_ERROR")
    result: dict[str, Any] = {"message": str(raw.get("message", "subgraph error"))}
    if path is not None:
        result["path"] = [_response_name(p) if isinstance(p, str) else p for p in path]
    extensions = raw.get("extensions")
    merged = dict(extensions) if isinstance(extensions, dict) else {}
    merged.setdefault("code", "SUBGRAPH_ERROR")
    merged["serviceName"] = service
    result["extensions"] = merged
    return result


def _response_name(segment: str) -> str:
    """The client's response key for a segment the router aliased (conflicts, @requires
    arguments, per-type arguments through an @interfaceObject)."""
    for marker in (ALIAS_MARKER, SCOPED_MARKER, REQUIRES_ALIAS):
        segment = segment.split(marker, 1)[0]
    return segment
