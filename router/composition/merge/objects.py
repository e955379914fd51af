"""Merging object and interface types: fields, @join__type, @join__implements, @join__field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import grouped_by_value, quote_list
from ..expand import Expanded, implemented_fields, string_arg
from ..model import Directive, Field, Kind, TypeDef
from .arguments import merge_arguments
from .context import MergeContext, join, merge_description, ordered_union
from .contexts import context_arguments, context_directives, without_context_arguments
from .directives import merge_applied
from .typemerge import output_supertype


@dataclass(frozen=True)
class FieldSource:
    subgraph: Expanded
    field: Field
    parent: str

    @property
    def coordinate(self) -> tuple[str, str]:
        return self.parent, self.field.name


def type_joins(ctx: MergeContext, sources: Sequence[tuple[Expanded, TypeDef]]) -> list[Directive]:
    implements = [
        join("implements", graph=ctx.graphs[s.name], interface=itf)
        for s, t in sources
        for itf in t.interfaces
    ]
    joins: list[Directive] = []
    for sub, typedef in sources:
        graph = ctx.graphs[sub.name]
        interface_object = True if typedef.name in sub.interface_objects else None
        keys = sub.keys.get(typedef.name, [])
        if not keys:
            joins.append(join("type", graph=graph, isInterfaceObject=interface_object))
        extension = True if typedef.extension else None
        for key in keys:
            joins.append(
                join(
                    "type",
                    graph=graph,
                    key=key.fields,
                    extension=extension,
                    resolvable=key.resolvable
                    if key.explicit_resolvable or not key.resolvable
                    else None,
                    isInterfaceObject=interface_object,
                )
            )
    return implements + joins


def merge_composite(
    ctx: MergeContext,
    name: str,
    sources: Sequence[tuple[Expanded, TypeDef]],
    implements: dict[str, set[str]],
) -> TypeDef:
    is_interface = any(t.kind is Kind.INTERFACE for _, t in sources)
    leading, rest = merge_applied((t for _, t in sources), ctx.kept, on_field=False)
    merged = TypeDef(
        Kind.INTERFACE if is_interface else Kind.OBJECT,
        name,
        merge_description([t.description for _, t in sources]),
        type_joins(ctx, sources) + leading + rest + context_directives(sources),
        interfaces=ordered_union([t.interfaces for _, t in sources]),
    )
    for field_name in ordered_union([list(t.fields) for _, t in sources]):
        field_sources = [
            FieldSource(s, t.fields[field_name], name) for s, t in sources if field_name in t.fields
        ]
        merged_field = merge_field(ctx, field_sources, len(sources), implements)
        if merged_field is not None:
            merged.fields[field_name] = merged_field
    return merged


def _overridden(sources: Sequence[FieldSource]) -> dict[str, str | None]:
    """Subgraph whose definition an @override takes over -> the override's label.

    An @external definition is not overridden: it never resolved the field.
    """
    result: dict[str, str | None] = {}
    by_name = {s.subgraph.name: s for s in sources}
    for source in sources:
        override = source.subgraph.overrides.get(source.coordinate)
        target = by_name.get(override.source) if override is not None else None
        if override is not None and target is not None and not _is_external(target):
            result[override.source] = override.label
    return result


def _is_external(source: FieldSource) -> bool:
    return source.coordinate in source.subgraph.external


def _merged_type(
    ctx: MergeContext, sources: Sequence[FieldSource], implements: dict[str, set[str]]
) -> str | None:
    merged = output_supertype([s.field.type for s in sources], implements)
    if merged is None:
        coordinate = ".".join(sources[0].coordinate)
        detail = grouped_by_value([(s.subgraph.name, s.field.type) for s in sources])
        ctx.sink.add(
            "FIELD_TYPE_MISMATCH",
            f'Type of field "{coordinate}" is incompatible across subgraphs: it has {detail}',
            [s.subgraph.name for s in sources],
            coordinate,
            "Make the types equal, or differ only in nullability or by an implemented interface.",
        )
    return merged


def _check_some_definition_is_not_external(
    ctx: MergeContext, sources: Sequence[FieldSource]
) -> None:
    if not all(_is_external(s) for s in sources):
        return
    if all(s.subgraph.subgraph.fed1 for s in sources):
        return
    coordinate = ".".join(sources[0].coordinate)
    names = [s.subgraph.name for s in sources]
    plural = "subgraphs" if len(names) > 1 else "subgraph"
    ctx.sink.add(
        "EXTERNAL_MISSING_ON_BASE",
        f'Field "{coordinate}" is marked @external on all the subgraphs in which it is listed'
        f" ({plural} {quote_list(names)}).",
        names,
        coordinate,
        f'Define "{coordinate}" without @external in the subgraph that resolves it.',
    )


def merge_field(
    ctx: MergeContext,
    sources: Sequence[FieldSource],
    type_source_count: int,
    implements: dict[str, set[str]],
) -> Field | None:
    parent, name = sources[0].coordinate
    merged_type = _merged_type(ctx, sources, implements)
    if merged_type is None:
        return None
    _check_some_definition_is_not_external(ctx, sources)
    overridden = _overridden(sources)
    all_equal = len({s.field.type for s in sources}) == 1
    # a definition overridden without a label no longer takes part in the merge
    live = [s for s in sources if overridden.get(s.subgraph.name, "label") is not None]
    used = {s.subgraph.name for s in sources if s.subgraph.name in overridden and _still_used(s)}
    joins = [_field_join(ctx, s, all_equal, overridden, used) for s in sources]
    needs_join = (
        not all_equal
        or bool(overridden)
        or len(sources) < type_source_count
        or any(_special(s) for s in sources)
    )
    leading, rest = merge_applied((s.field for s in live), ctx.kept, on_field=True)
    live_fields = [(s.subgraph, without_context_arguments(s.field)) for s in live]
    return Field(
        name,
        merged_type,
        merge_arguments(ctx, parent, live_fields),
        merge_description([s.field.description for s in sources]),
        leading + ([j for j in joins if j is not None] if needs_join else []) + rest,
    )


def _still_used(source: FieldSource) -> bool:
    """An overridden field the overridden subgraph still needs (key, @requires, interface)."""
    sub, coordinate = source.subgraph, source.coordinate
    needed = sub.key_fields | sub.requires_fields | implemented_fields(sub)
    return not _is_external(source) and coordinate in needed


def _special(source: FieldSource) -> bool:
    """Definitions that always need their own @join__field."""
    names = {d.name for d in source.field.directives}
    return (
        _is_external(source)
        or bool(names & {"requires", "provides"})
        or context_arguments(source.subgraph, source.field) is not None
    )


def _field_join(
    ctx: MergeContext,
    source: FieldSource,
    all_equal: bool,
    overridden: dict[str, str | None],
    used: set[str],
) -> Directive | None:
    sub = source.subgraph
    label: str | None = None
    override = sub.overrides.get(source.coordinate)
    if sub.name in overridden:
        label = overridden[sub.name]
        if sub.name not in used and label is None:
            return None
    elif override is not None:
        label = override.label
    fields = {d.name: d for d in source.field.directives}
    return join(
        "field",
        graph=ctx.graphs[sub.name],
        requires=_fields_arg(fields.get("requires")),
        provides=_fields_arg(fields.get("provides")),
        type=None if all_equal else source.field.type,
        external=True if _is_external(source) else None,
        override=override.source if override is not None else None,
        usedOverridden=True if sub.name in used else None,
        overrideLabel=label,
        contextArguments=context_arguments(sub, source.field),
    )


def _fields_arg(directive: Directive | None) -> str | None:
    return string_arg(directive, "fields") if directive is not None else None
