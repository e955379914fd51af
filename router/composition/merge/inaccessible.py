"""An @inaccessible type may only be referenced from elements that are @inaccessible too."""

from __future__ import annotations

from router.federation.typerefs import named_type

from ..model import Element, TypeDef, has
from .context import MergeContext


def _references(typedef: TypeDef) -> list[tuple[str, Element, str]]:
    """(coordinate, element, referenced type) for every field, argument and input field."""
    result: list[tuple[str, Element, str]] = []
    for fdef in typedef.fields.values():
        result.append((f"{typedef.name}.{fdef.name}", fdef, named_type(fdef.type)))
        if has(fdef, "inaccessible"):
            continue
        for arg in fdef.args.values():
            coordinate = f"{typedef.name}.{fdef.name}({arg.name}:)"
            result.append((coordinate, arg, named_type(arg.type)))
    for value in typedef.input_fields.values():
        result.append((f"{typedef.name}.{value.name}", value, named_type(value.type)))
    return result


def check_inaccessible(ctx: MergeContext, types: dict[str, TypeDef]) -> None:
    hidden = {name for name, typedef in types.items() if has(typedef, "inaccessible")}
    if not hidden:
        return
    for typedef in types.values():
        if typedef.name in hidden:
            continue
        for coordinate, element, target in _references(typedef):
            if target not in hidden or has(element, "inaccessible"):
                continue
            parent, _, field_name = coordinate.partition(".")
            field_name = field_name.split("(")[0]
            subgraphs = [
                s.name
                for s in ctx.subgraphs
                if parent in s.types
                and (
                    field_name in s.types[parent].fields
                    or field_name in s.types[parent].input_fields
                )
            ]
            ctx.sink.add(
                "REFERENCED_INACCESSIBLE",
                f'Type "{target}" is @inaccessible but is referenced by "{coordinate}", which is'
                " in the API schema.",
                subgraphs,
                coordinate,
                f'Mark "{coordinate}" @inaccessible too, or make "{target}" accessible.',
            )
