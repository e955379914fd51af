"""JSON in and out of the router: orjson (several times faster than the standard library on
the large responses a gateway moves), with the standard library as the fallback for what
orjson refuses (integers beyond 64 bits)."""

import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def dumps_sorted(value: Any) -> bytes:
    """Compact JSON with object keys sorted: a canonical form to compare values by."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def loads(data: bytes | str) -> Any:
    """Parse JSON; raises ValueError when it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)  # what orjson refuses but JSON allows, else its ValueError
