"""Merged stage: validated subgraphs combined into one supergraph, with every error found."""

from __future__ import annotations

from collections.abc import Sequence

from router.federation.typerefs import named_type

from ..errors import ErrorSink
from ..model import Field, Kind, TypeDef
from ..supergraph import Graph, Supergraph
from ..validate import Validated
from .checks import (
    check_extensions_have_base,
    check_has_queries,
    check_interface_object_has_interface,
)
from .composed import composed_directives
from .context import MergeContext, join, ordered_union
from .directives import BUILT_IN_KEPT, SPEC_DIRECTIVES
from .features import feature_links, join_version, rename_features
from .inaccessible import check_inaccessible
from .objects import merge_composite
from .shareable import check_shareable
from .values import EnumUsage, merge_enum, merge_input_object, merge_scalar, merge_union


def _kind(ctx: MergeContext, name: str) -> Kind | None:
    kinds = {t.kind for _, t in ctx.sources(name)}
    if any(name in s.interface_objects for s, _ in ctx.sources(name)):
        check_interface_object_has_interface(ctx, name)
        return Kind.INTERFACE
    if len(kinds) == 1:
        return kinds.pop()
    detail = " but ".join(
        f'{t.kind.name.replace("_", " ").title()} Type in subgraph "{s.name}"'
        for s, t in ctx.sources(name)
    )
    ctx.sink.add(
        "TYPE_KIND_MISMATCH",
        f'Type "{name}" has mismatched kind: it is defined as {detail}',
        [s.name for s, _ in ctx.sources(name)],
        name,
        f'Define "{name}" with the same kind in every subgraph.',
    )
    return None


def _implements(ctx: MergeContext) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for sub in ctx.subgraphs:
        for typedef in sub.types.values():
            result.setdefault(typedef.name, set()).update(typedef.interfaces)
            for member in typedef.members:
                result.setdefault(member, set()).add(typedef.name)
    return result


def _enum_usage(types: dict[str, TypeDef]) -> EnumUsage:
    usage = EnumUsage()
    for typedef in types.values():
        for fdef in typedef.fields.values():
            usage.outputs.setdefault(named_type(fdef.type), f"{typedef.name}.{fdef.name}")
            for arg in fdef.args.values():
                usage.inputs.setdefault(
                    named_type(arg.type), f"{typedef.name}.{fdef.name}({arg.name}:)"
                )
        for value in typedef.input_fields.values():
            usage.inputs.setdefault(named_type(value.type), f"{typedef.name}.{value.name}")
    return usage


def _propagate_interface_object_fields(ctx: MergeContext, types: dict[str, TypeDef]) -> None:
    """Fields an @interfaceObject adds to an interface are added to its implementations too."""
    for name, itf in types.items():
        if itf.kind is not Kind.INTERFACE:
            continue
        added = ordered_union(
            [list(t.fields) for s, t in ctx.sources(name) if name in s.interface_objects]
        )
        for impl in types.values():
            if name not in impl.interfaces or impl.kind is not Kind.OBJECT:
                continue
            for field_name in added:
                if field_name in impl.fields or field_name not in itf.fields:
                    continue
                source = itf.fields[field_name]
                impl.fields[field_name] = Field(
                    field_name,
                    source.type,
                    dict(source.args),
                    source.description,
                    [join("field")],
                )


def _merge_type(
    ctx: MergeContext, name: str, kind: Kind | None, implements: dict[str, set[str]]
) -> TypeDef | None:
    sources = ctx.sources(name)
    if kind in (Kind.OBJECT, Kind.INTERFACE):
        if kind is Kind.OBJECT:
            check_shareable(ctx, name)
        return merge_composite(ctx, name, sources, implements)
    if kind is Kind.SCALAR:
        return merge_scalar(ctx, name, sources)
    if kind is Kind.UNION:
        return merge_union(ctx, name, sources)
    if kind is Kind.INPUT_OBJECT:
        return merge_input_object(ctx, name, sources)
    return None


def merge(subgraphs: Sequence[Validated], sink: ErrorSink) -> Supergraph | None:
    """The supergraph, or None when the subgraphs cannot be merged (errors are in `sink`)."""
    custom_links, definitions = composed_directives(subgraphs, sink)
    composed = {d.name.value for d in definitions}
    ctx = MergeContext(subgraphs, sink, kept=frozenset(SPEC_DIRECTIVES + BUILT_IN_KEPT) | composed)
    names = ordered_union([list(s.types) for s in subgraphs])
    check_extensions_have_base(ctx, names)
    check_has_queries(ctx)
    implements = _implements(ctx)
    types: dict[str, TypeDef] = {}
    enums: list[str] = []
    for name in names:
        kind = _kind(ctx, name)
        if kind is Kind.ENUM:
            enums.append(name)
            continue
        merged = _merge_type(ctx, name, kind, implements)
        if merged is not None:
            types[name] = merged
    usage = _enum_usage(types)
    for name in enums:
        types[name] = merge_enum(ctx, name, ctx.sources(name), usage)
    _propagate_interface_object_fields(ctx, types)
    check_inaccessible(ctx, types)
    roots = {kind: root for s in subgraphs for kind, root in s.subgraph.roots.items()}
    roots = {kind: roots[kind] for kind in ("query", "mutation", "subscription") if kind in roots}
    if sink.errors:
        return None
    features = feature_links(subgraphs)
    rename_features(types, features)
    return Supergraph(
        [Graph(ctx.graphs[s.name], s.name, s.subgraph.url) for s in subgraphs],
        join_version(subgraphs),
        types,
        roots,
        features,
        custom_links,
        definitions,
    )
