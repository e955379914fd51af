"""A field resolved by several subgraphs must be @shareable in each of them."""

from __future__ import annotations

from ..errors import quote_list
from ..model import Kind
from .context import MergeContext


def check_shareable(ctx: MergeContext, type_name: str) -> None:
    sources = ctx.sources(type_name)
    if any(t.kind is not Kind.OBJECT or t.name in s.interface_objects for s, t in sources):
        return
    field_names = dict.fromkeys(f for _, t in sources for f in t.fields)
    for field_name in field_names:
        coordinate = (type_name, field_name)
        having = [s for s, t in sources if field_name in t.fields]
        overridden = {o.source for s in having if (o := s.overrides.get(coordinate))}
        resolving = [s for s in having if s.resolves(coordinate) and s.name not in overridden]
        if len(resolving) < 2:
            continue
        strict = [
            s.name
            for s in resolving
            if coordinate not in s.shareable and coordinate not in s.external
        ]
        if not strict:
            continue
        where = f"{type_name}.{field_name}"
        plural = "subgraphs" if len(strict) > 1 else "subgraph"
        which = "all of them" if len(strict) == len(resolving) else f"{plural} {quote_list(strict)}"
        ctx.sink.add(
            "INVALID_FIELD_SHARING",
            f'Non-shareable field "{where}" is resolved from multiple subgraphs: it is resolved'
            f" from subgraphs {quote_list([s.name for s in resolving])} and defined as"
            f" non-shareable in {which}",
            [s.name for s in resolving],
            where,
            f'Mark "{where}" @shareable in every subgraph that resolves it, or use @override'
            " to move it to one subgraph.",
        )
