"""JSON in and out of the router: orjson (several times faster than the standard library on
the large responses a gateway moves). Parsing is orjson alone: it refuses what a client must
not send (lone surrogates, invalid UTF-8, nesting past 1024 levels, NaN) without recursing;
writing falls back to the standard library for what orjson refuses (integers past 64 bits,
values nested past 254 levels, deeper than client input may be: `router.gateway.variables`)."""

import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def dumps_loose(value: Any) -> bytes:
    """Compact UTF-8 JSON of anything: what JSON has no form for written as its `str`, keys
    that are not strings too (a log line's fields)."""
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(value, default=str, separators=(",", ":"), ensure_ascii=False).encode()


def dumps_sorted(value: Any) -> bytes:
    """Compact JSON with object keys sorted: a canonical form to compare values by."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def loads(data: bytes | str) -> Any:
    """Parse JSON; raises ValueError (with orjson's reason) when it is not JSON."""
    return orjson.loads(data)


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays in a parsed JSON value nest more than ``limit`` levels
    (a scalar is level 0); walked without recursion."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        if depth == limit:
            return True
        pending.extend((child, depth + 1) for child in item)
    return False
