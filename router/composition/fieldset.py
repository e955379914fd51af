"""Field sets (`@key(fields:)`, `@requires`, `@provides`) as composition checks them: parsed
into plain selections and resolved against a subgraph's types."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from graphql import GraphQLSyntaxError
from graphql.language import FieldNode, InlineFragmentNode, SelectionSetNode

from router.federation import fieldset
from router.federation.typerefs import named_type

from .model import TypeDef


@dataclass(frozen=True)
class Selection:
    name: str  # a field name, or "" for an inline fragment
    children: tuple[Selection, ...] = ()
    has_args: bool = False
    type_condition: str | None = None


def selections_of(node: SelectionSetNode | None) -> tuple[Selection, ...]:
    result: list[Selection] = []
    for sel in node.selections if node else ():
        if isinstance(sel, FieldNode):
            result.append(
                Selection(sel.name.value, selections_of(sel.selection_set), bool(sel.arguments))
            )
        elif isinstance(sel, InlineFragmentNode):
            condition = sel.type_condition.name.value if sel.type_condition else None
            result.append(Selection("", selections_of(sel.selection_set), False, condition))
    return tuple(result)


def parse_field_set(text: str) -> tuple[Selection, ...] | None:
    try:
        return selections_of(fieldset.parse_field_set(text))
    except GraphQLSyntaxError:
        return None


def field_set_error(text: str) -> str | None:
    try:
        fieldset.parse_field_set(text)
    except GraphQLSyntaxError as exc:
        return str(exc.message)
    return None


@dataclass(frozen=True)
class Step:
    """One field of a field set resolved against its parent type (field is None if unknown)."""

    parent: str
    name: str
    field_type: str | None
    selection: Selection
    takes_args: bool = False


def walk(
    selections: tuple[Selection, ...], parent: str, types: dict[str, TypeDef]
) -> Iterator[Step]:
    typedef = types.get(parent)
    for sel in selections:
        if not sel.name:
            yield from walk(sel.children, sel.type_condition or parent, types)
            continue
        field = typedef.fields.get(sel.name) if typedef else None
        if sel.name == "__typename":
            continue
        yield Step(parent, sel.name, field.type if field else None, sel, bool(field and field.args))
        if field is not None and sel.children:
            yield from walk(sel.children, named_type(field.type), types)


def top_level_names(selections: tuple[Selection, ...]) -> list[str]:
    return [s.name for s in selections if s.name]


def print_field_set(selections: tuple[Selection, ...]) -> str:
    """Normalised text of a field set: `products { id pid }`."""
    parts: list[str] = []
    for sel in selections:
        head = sel.name or f"... on {sel.type_condition}"
        parts.append(f"{head} {{ {print_field_set(sel.children)} }}" if sel.children else head)
    return " ".join(parts)
