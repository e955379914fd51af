"""Whole-type checks of the merge: extensions without a base, interface objects, query root."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import quote_list
from ..model import DEFAULT_ROOT_NAMES
from .context import MergeContext


def check_extensions_have_base(ctx: MergeContext, names: Sequence[str]) -> None:
    roots = set(DEFAULT_ROOT_NAMES.values())
    for name in names:
        sources = ctx.sources(name)
        if name in roots or not all(t.declared_as_extension for _, t in sources):
            continue
        for sub, _ in sources:
            ctx.sink.add(
                "EXTENSION_WITH_NO_BASE",
                f'[{sub.name}] Type "{name}" is an extension type, but there is no type definition'
                f' for "{name}" in any subgraph.',
                [sub.name],
                name,
                f'Define "{name}" (without `extend`) in one subgraph.',
            )


def check_interface_object_has_interface(ctx: MergeContext, name: str) -> None:
    sources = ctx.sources(name)
    if not all(name in s.interface_objects for s, _ in sources):
        return
    names = [s.name for s, _ in sources]
    plural = "subgraphs" if len(names) > 1 else "subgraph"
    ctx.sink.add(
        "INTERFACE_OBJECT_USAGE_ERROR",
        f'Type "{name}" is declared with @interfaceObject in all the subgraphs in which it is'
        f" defined (it is defined in {plural} {quote_list(names)} but should be defined as an"
        " interface in at least one subgraph)",
        names,
        name,
        f'Define "{name}" as an interface (with its implementations) in one subgraph.',
    )


def check_has_queries(ctx: MergeContext) -> None:
    if not any(s.types["Query"].fields for s in ctx.subgraphs if "Query" in s.types):
        ctx.sink.add(
            "NO_QUERIES",
            "No queries found in any subgraph: a supergraph must have a query root type.",
            [s.name for s in ctx.subgraphs],
            "Query",
            "Add at least one field to the Query type of a subgraph.",
        )
