"""Every type a subgraph references must be defined in it (or be a built-in scalar)."""

from __future__ import annotations

from router.federation.typerefs import named_type

from .errors import ErrorSink
from .subgraph import Subgraph

BUILT_IN_SCALARS = frozenset({"String", "Int", "Float", "Boolean", "ID"})


def _referenced(subgraph: Subgraph) -> dict[str, str]:
    """Referenced type name -> the first coordinate referencing it."""
    found: dict[str, str] = {}
    for typedef in subgraph.types.values():
        for fdef in typedef.fields.values():
            found.setdefault(named_type(fdef.type), f"{typedef.name}.{fdef.name}")
            for arg in fdef.args.values():
                found.setdefault(named_type(arg.type), f"{typedef.name}.{fdef.name}({arg.name}:)")
        for value in typedef.input_fields.values():
            found.setdefault(named_type(value.type), f"{typedef.name}.{value.name}")
        for name in [*typedef.interfaces, *typedef.members]:
            found.setdefault(name, typedef.name)
    return found


def check_references(subgraph: Subgraph, sink: ErrorSink) -> None:
    for name, coordinate in _referenced(subgraph).items():
        if name in subgraph.types or name in BUILT_IN_SCALARS:
            continue
        sink.add(
            "INVALID_GRAPHQL",
            f"[{subgraph.name}] Unknown type {name}",
            [subgraph.name],
            coordinate,
            f'Define "{name}" in subgraph "{subgraph.name}" (a stub with its key is enough for'
            " an entity), or fix the type name.",
        )
