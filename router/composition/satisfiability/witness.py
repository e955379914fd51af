"""Example queries in satisfiability errors, written the way Apollo writes them."""

from __future__ import annotations

from collections.abc import Sequence

from router.federation.typerefs import is_list, named_type, nullable

from ..model import Field, Kind, TypeDef, has

SCALAR_WITNESSES = {
    "Int": "0",
    "Float": "3.14",
    "Boolean": "true",
    "String": '"A string value"',
    "ID": '"<any id>"',
}


def _value(type_ref: str, types: dict[str, TypeDef]) -> str:
    if is_list(nullable(type_ref)):
        return "[]"
    name = named_type(type_ref)
    typedef = types.get(name)
    if typedef is not None and typedef.kind is Kind.ENUM:
        return next(iter(typedef.values), "")
    if typedef is not None and typedef.kind is Kind.INPUT_OBJECT:
        required = [
            f"{f.name}: {_value(f.type, types)}"
            for f in typedef.input_fields.values()
            if f.type.endswith("!") and f.default is None
        ]
        return "{" + ", ".join(required) + "}"
    return SCALAR_WITNESSES.get(name, '"<some value>"')


def witness_field(field: Field, types: dict[str, TypeDef], hidden: str) -> str:
    """The field with a made-up value for each argument of the API schema."""
    visible = [a for a in field.args.values() if not has(a, hidden)]
    if not visible:
        return field.name
    args = ", ".join(f"{a.name}: {_value(a.type, types)}" for a in visible)
    return f"{field.name}({args})"


def query_text(root: str, steps: Sequence[str], composite_leaf: bool) -> str:
    """Nested selections, one per line; a composite leaf is shown as `leaf { ... }`."""
    steps = [*steps, "..."] if composite_leaf else list(steps)
    lines = [
        "  " * (depth + 1) + step + (" {" if depth < len(steps) - 1 else "")
        for depth, step in enumerate(steps)
    ]
    lines += ["  " * depth + "}" for depth in range(len(steps) - 1, 0, -1)]
    prefix = "" if root == "Query" else root.lower() + " "
    return prefix + "{\n" + "\n".join(lines) + "\n}"
