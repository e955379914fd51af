"""Merging scalars, unions, enums (by usage) and input objects (intersection)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import quote_list
from ..expand import Expanded
from ..model import EnumValue, Kind, TypeDef, has
from .arguments import defined_everywhere, merge_input_value
from .context import MergeContext, join, merge_description, ordered_union
from .directives import merge_applied

Sources = Sequence[tuple[Expanded, TypeDef]]


@dataclass
class EnumUsage:
    inputs: dict[str, str] = field(default_factory=dict)  # enum -> an example coordinate
    outputs: dict[str, str] = field(default_factory=dict)


def _base(ctx: MergeContext, kind: Kind, name: str, sources: Sources) -> TypeDef:
    leading, rest = merge_applied((t for _, t in sources), ctx.kept, on_field=False)
    joins = [join("type", graph=ctx.graphs[s.name]) for s, _ in sources]
    return TypeDef(
        kind, name, merge_description([t.description for _, t in sources]), joins + leading + rest
    )


def merge_scalar(ctx: MergeContext, name: str, sources: Sources) -> TypeDef:
    return _base(ctx, Kind.SCALAR, name, sources)


def merge_union(ctx: MergeContext, name: str, sources: Sources) -> TypeDef:
    merged = _base(ctx, Kind.UNION, name, sources)
    merged.members = ordered_union([t.members for _, t in sources])
    merged.directives[len(sources) : len(sources)] = [
        join("unionMember", graph=ctx.graphs[s.name], member=member)
        for member in merged.members
        for s, t in sources
        if member in t.members
    ]
    return merged


def merge_enum(ctx: MergeContext, name: str, sources: Sources, usage: EnumUsage) -> TypeDef:
    merged = _base(ctx, Kind.ENUM, name, sources)
    names = ordered_union([list(t.values) for _, t in sources])
    as_input, as_output = usage.inputs.get(name), usage.outputs.get(name)
    for value in names:
        having = [(s, t.values[value]) for s, t in sources if value in t.values]
        missing = [s.name for s, t in sources if value not in t.values]
        inaccessible = any(has(v, "inaccessible") for _, v in having)
        if missing and as_input is not None and as_output is not None and not inaccessible:
            ctx.sink.add(
                "ENUM_VALUE_MISMATCH",
                f'Enum type "{name}" is used as both input type (for example, as type of'
                f' "{as_input}") and output type (for example, as type of "{as_output}"), but'
                f' value "{value}" is not defined in all the subgraphs defining "{name}":'
                f' "{value}" is defined in subgraph {quote_list([s.name for s, _ in having])}'
                f" but not in subgraph {quote_list(missing)}",
                [s.name for s, _ in sources],
                f"{name}.{value}",
                f'Add "{value}" to "{name}" in subgraph {quote_list(missing)}, or remove it'
                " everywhere.",
            )
            continue
        if missing and as_input is not None and not inaccessible:
            continue
        leading, rest = merge_applied((v for _, v in having), ctx.kept, on_field=True)
        joins = [join("enumValue", graph=ctx.graphs[s.name]) for s, _ in having]
        merged.values[value] = EnumValue(
            value, merge_description([v.description for _, v in having]), leading + joins + rest
        )
    if not merged.values:
        ctx.sink.add(
            "EMPTY_MERGED_ENUM_TYPE",
            f'None of the values of enum type "{name}" are defined consistently in all the'
            f" subgraphs defining that type. As only values common to all subgraphs are merged,"
            " this would result in an empty type.",
            [s.name for s, _ in sources],
            name,
            f'Define at least one value of "{name}" in every subgraph that defines it.',
        )
    return merged


def merge_input_object(ctx: MergeContext, name: str, sources: Sources) -> TypeDef:
    merged = _base(ctx, Kind.INPUT_OBJECT, name, sources)
    for field_name in ordered_union([list(t.input_fields) for _, t in sources]):
        coordinate = f"{name}.{field_name}"
        having = [
            (s, t.input_fields[field_name]) for s, t in sources if field_name in t.input_fields
        ]
        missing = [s.name for s, t in sources if field_name not in t.input_fields]
        if not defined_everywhere(ctx, coordinate, having, missing, "Input object field", "field"):
            continue
        value = merge_input_value(ctx, coordinate, having, "input field")
        if value is None:
            continue
        if len({v.type for _, v in having}) > 1:
            joins = [join("field", graph=ctx.graphs[s.name], type=v.type) for s, v in having]
            lead = 1 if value.directives and value.directives[0].name == "inaccessible" else 0
            value.directives[lead:lead] = joins
        merged.input_fields[field_name] = value
    return merged
