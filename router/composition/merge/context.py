"""What every merge step shares: the subgraphs in order, their graph names, the error sink."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from graphql.language import BooleanValueNode, EnumValueNode, StringValueNode, ValueNode

from ..errors import ErrorSink
from ..expand import Expanded
from ..model import Directive, TypeDef
from .directives import BUILT_IN_KEPT, SPEC_DIRECTIVES


def graph_enum_names(names: Sequence[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        base = re.sub(r"[^A-Za-z0-9_]", "_", name).upper()
        if base[:1].isdigit():
            base = "_" + base
        candidate, suffix = base, 1
        while candidate in used:
            candidate, suffix = f"{base}_{suffix}", suffix + 1
        used.add(candidate)
        result[name] = candidate
    return result


JoinArg = str | bool | ValueNode | None


def join(name: str, **args: JoinArg) -> Directive:
    """A `@join__*` application; None arguments are left out, the order given is kept."""
    values: dict[str, ValueNode] = {}
    for arg, value in args.items():
        if value is None:
            continue
        if isinstance(value, ValueNode):
            values[arg] = value
        elif isinstance(value, bool):
            values[arg] = BooleanValueNode(value=value)
        elif arg == "graph":
            values[arg] = EnumValueNode(value=value)
        else:
            values[arg] = StringValueNode(value=value)
    return Directive(f"join__{name}", values)


@dataclass
class MergeContext:
    subgraphs: Sequence[Expanded]
    sink: ErrorSink
    kept: frozenset[str] = frozenset(SPEC_DIRECTIVES + BUILT_IN_KEPT)
    graphs: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.graphs = graph_enum_names([s.name for s in self.subgraphs])

    def sources(self, type_name: str) -> list[tuple[Expanded, TypeDef]]:
        return [(s, s.types[type_name]) for s in self.subgraphs if type_name in s.types]


def merge_description(descriptions: Sequence[str | None]) -> str | None:
    present = [d for d in descriptions if d]
    if not present:
        return None
    counts = Counter(present)
    best = max(counts.values())
    return next(d for d in present if counts[d] == best)


def ordered_union(groups: Sequence[Sequence[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for group in groups:
        for name in group:
            seen.setdefault(name, None)
    return list(seen)
