"""Merging the type of a field or argument across subgraphs."""

from __future__ import annotations

from collections.abc import Sequence

from router.federation.typerefs import is_list, is_non_null, is_subtype, item, nullable, same_shape


def output_supertype(types: Sequence[str], implements: dict[str, set[str]]) -> str | None:
    """The most general of the types if all the others are its subtypes (output positions)."""
    for candidate in types:
        if all(is_subtype(t, candidate, implements) for t in types):
            return candidate
    return None


def input_subtype(types: Sequence[str]) -> str | None:
    """The most specific of the types (input positions): nullability may differ, nothing else."""
    first = types[0]
    if not all(same_shape(t, first) for t in types):
        return None
    return _strictest(types)


def _strictest(types: Sequence[str]) -> str:
    non_null = any(is_non_null(t) for t in types)
    inner = [nullable(t) for t in types]
    merged = "[" + _strictest([item(t) for t in inner]) + "]" if is_list(inner[0]) else inner[0]
    return merged + "!" if non_null else merged
