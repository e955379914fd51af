"""Pydantic's validation errors as `router.yaml` problems: one line each, naming the key path
(`traffic_shaping.subgraphs.products.timeout`, list items as `[i]`), what is expected and
what was found."""

import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from router.config.apollo import apollo_hint
from router.config.fields import keys_at
from router.config.model import RouterConfig

Loc = tuple[str | int, ...]
_SHAPE_ERRORS = frozenset({"missing", "extra_forbidden", "model_type", "dict_type"})


def format_path(path: Iterable[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "(the whole file)"


def describe(value: Any, written: Mapping[str, str]) -> str:
    """The value as found, short; an expanded one as it was written (it may be a secret)."""
    if isinstance(value, str) and value in written:
        return written[value]
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _child(values: Any, part: str | int) -> tuple[bool, Any]:
    """Whether a mapping or list holds something at ``part``, and what."""
    if isinstance(values, Mapping) and part in values:
        return True, values[part]
    if isinstance(values, list) and isinstance(part, int) and 0 <= part < len(values):
        return True, values[part]
    return False, None


def _split(loc: Loc, data: Any) -> tuple[Loc, tuple[int, str] | None]:
    """The key path of an error inside the document, and the union branch it was found in
    (pydantic names a branch inside the location: `PropagateRule`, `function-before[...]`)."""
    path: list[str | int] = []
    branch = None
    current = data
    for i, part in enumerate(loc):
        found, child = _child(current, part)
        if not found and i < len(loc) - 1 and isinstance(part, str):
            branch = branch or (len(path), part)
            continue
        current = child
        path.append(part)
    return tuple(path), branch


def _cost(errors: list[ErrorDetails], depth: int) -> tuple[int, int]:
    """Errors about a branch's own keys (a missing or unknown one) first, then all."""
    shape = sum(1 for e in errors if e["type"] in _SHAPE_ERRORS and len(e["loc"]) <= depth + 2)
    return shape, len(errors)


def _closest_branches(errors: list[ErrorDetails], data: Any) -> list[tuple[Loc, ErrorDetails]]:
    """Of the errors each branch of a union raised, those of the branch the value was most
    likely meant for: the fewest errors about its shape (a missing or unknown key), then the
    fewest errors."""
    located = [(*_split(e["loc"], data), e) for e in errors]
    branches: dict[tuple[Loc, int], dict[str, list[ErrorDetails]]] = {}
    for path, branch, error in located:
        if branch is not None:
            depth, name = branch
            branches.setdefault((path[:depth], depth), {}).setdefault(name, []).append(error)
    chosen = {
        key: min(by_name.items(), key=lambda item: _cost(item[1], key[1]))[0]
        for key, by_name in branches.items()
    }
    kept = []
    for path, branch, error in located:
        if branch is not None and chosen[(path[: branch[0]], branch[0])] != branch[1]:
            continue
        kept.append((path, error))
    return kept


def _unknown(path: Loc) -> str:
    key = path[-1]
    known = keys_at(RouterConfig, path[:-1])
    close = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.7)
    return f"unknown key (did you mean `{close[0]}`?)" if close else "unknown key"


def _what(error: ErrorDetails, path: Loc) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        keys = tuple(p if isinstance(p, str) else "*" for p in path)
        return apollo_hint(keys) or _unknown(path)
    if kind == "missing":
        return "required"
    if kind in ("model_type", "dict_type"):
        return "should be a mapping"
    message = error["msg"].removeprefix("Value error, ")
    message = message.replace("Input should be", "should be")
    return message[:1].lower() + message[1:]


def given_in(values: Any, path: Loc) -> bool:
    """Whether ``values`` (nested mappings and lists) hold something at ``path``."""
    for part in path:
        found, values = _child(values, part)
        if not found:
            return False
    return True


def problems(
    failure: ValidationError,
    data: Any,
    written: Mapping[str, str],
    source: Callable[[Loc], str],
) -> list[str]:
    """``SOURCE: key.path: what is expected (got …)``, one per problem, in the document's
    order; ``source`` names where the value at a path came from (the file, the command line)."""
    lines = []
    for path, error in _closest_branches(failure.errors(), data):
        what = _what(error, path)
        if error["type"] == "missing":
            line = f"{format_path(path)}: {what} (missing)"
        elif error["type"] == "extra_forbidden":
            line = f"{format_path(path)}: {what}"
        else:
            line = f"{format_path(path)}: {what} (got {describe(error['input'], written)})"
        line = f"{source(path)}: {line}"
        if line not in lines:
            lines.append(line)
    return lines
