"""Merging the arguments of a field defined in several subgraphs (intersection, as Apollo does)."""

from __future__ import annotations

from collections.abc import Sequence

from graphql import print_ast

from router.federation.typerefs import is_non_null

from ..errors import grouped_by_value, quote_list
from ..expand import Expanded
from ..model import Field, InputValue
from .context import MergeContext, merge_description
from .directives import merge_applied
from .typemerge import input_subtype

# what is merged -> (error code prefix, how Apollo's messages name it)
INPUT_KINDS = {"argument": ("FIELD_ARGUMENT", "argument"), "input field": ("FIELD", "field")}


def merge_input_value(
    ctx: MergeContext,
    coordinate: str,
    sources: Sequence[tuple[Expanded, InputValue]],
    kind: str,
) -> InputValue | None:
    code, label = INPUT_KINDS[kind]
    values = [v for _, v in sources]
    names = [s.name for s, _ in sources]
    merged_type = input_subtype([v.type for v in values])
    if merged_type is None:
        detail = grouped_by_value([(s.name, v.type) for s, v in sources])
        ctx.sink.add(
            f"{code}_TYPE_MISMATCH",
            f'Type of {label} "{coordinate}" is incompatible across subgraphs: it has {detail}',
            names,
            coordinate,
            "Use the same type (nullability may differ) in every subgraph.",
        )
        return None
    defaults = {print_ast(v.default): v.default for v in values if v.default is not None}
    if len(defaults) > 1:
        detail = grouped_by_value(
            [(s.name, print_ast(v.default)) for s, v in sources if v.default is not None],
            "default value",
        )
        ctx.sink.add(
            f"{code}_DEFAULT_MISMATCH",
            f'{label.capitalize()} "{coordinate}" has incompatible default values across'
            f" subgraphs: it has {detail}",
            names,
            coordinate,
            "Use the same default value in every subgraph, or define it in only one.",
        )
    leading, rest = merge_applied(values, ctx.kept, on_field=False)
    return InputValue(
        values[0].name,
        merged_type,
        next(iter(defaults.values()), None),
        merge_description([v.description for v in values]),
        leading + rest,
    )


def defined_everywhere(
    ctx: MergeContext,
    coordinate: str,
    having: Sequence[tuple[Expanded, InputValue]],
    missing: list[str],
    label: str,
    noun: str,
) -> bool:
    """Whether an argument or input field is in every subgraph; if it is required in some
    and absent from others, that is an error (a value absent everywhere else is dropped)."""
    if not missing:
        return True
    required = [s.name for s, v in having if is_non_null(v.type) and v.default is None]
    if required:
        code = "ARGUMENT" if noun == "argument" else "INPUT_FIELD"
        ctx.sink.add(
            f"REQUIRED_{code}_MISSING_IN_SOME_SUBGRAPH",
            f'{label} "{coordinate}" is required in some subgraphs but does not appear in all'
            f" subgraphs: it is required in subgraph {quote_list(required)} but does not"
            f" appear in subgraph {quote_list(missing)}",
            required + missing,
            coordinate,
            f"Add the {noun} to subgraph {quote_list(missing)}, or make it optional.",
        )
    return False


def merge_arguments(
    ctx: MergeContext, parent: str, sources: Sequence[tuple[Expanded, Field]]
) -> dict[str, InputValue]:
    result: dict[str, InputValue] = {}
    names: dict[str, None] = {}
    for _, fdef in sources:
        names.update(dict.fromkeys(fdef.args))
    for arg in names:
        coordinate = f"{parent}.{sources[0][1].name}({arg}:)"
        having = [(s, f.args[arg]) for s, f in sources if arg in f.args]
        missing = [s.name for s, f in sources if arg not in f.args]
        if not defined_everywhere(ctx, coordinate, having, missing, "Argument", "argument"):
            continue
        merged = merge_input_value(ctx, coordinate, having, "argument")
        if merged is not None:
            result[arg] = merged
    return result
