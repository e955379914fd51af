"""`@context` / `@fromContext`: contexts are renamed per subgraph, arguments become join data."""

from __future__ import annotations

from collections.abc import Sequence

from graphql.language import (
    ListValueNode,
    NameNode,
    ObjectFieldNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
)

from ..expand import Expanded, string_arg
from ..model import Directive, Field, TypeDef, applied


def context_directives(sources: Sequence[tuple[Expanded, TypeDef]]) -> list[Directive]:
    """`@context(name: "x")` in subgraph "a" is `@context(name: "a__x")` in the supergraph."""
    return [
        Directive("context", {"name": StringValueNode(value=f"{sub.name}__{name}")})
        for sub, typedef in sources
        for d in applied(typedef, "context")
        if (name := string_arg(d, "name"))
    ]


def context_arguments(sub: Expanded, field: Field) -> ValueNode | None:
    """The `contextArguments` of a field's @join__field, from its `@fromContext` arguments."""
    entries: list[ValueNode] = []
    for arg in field.args.values():
        for d in applied(arg, "fromContext"):
            reference = string_arg(d, "field") or ""
            context, _, selection = reference.lstrip("$").partition(" ")
            entries.append(
                _object(
                    context=f"{sub.name}__{context}",
                    name=arg.name,
                    type=arg.type,
                    selection=" " + selection if selection else "",
                )
            )
    return ListValueNode(values=tuple(entries)) if entries else None


def without_context_arguments(field: Field) -> Field:
    args = {k: v for k, v in field.args.items() if not applied(v, "fromContext")}
    return Field(field.name, field.type, args, field.description, field.directives)


def _object(**fields: str) -> ObjectValueNode:
    return ObjectValueNode(
        fields=tuple(
            ObjectFieldNode(name=NameNode(value=k), value=StringValueNode(value=v))
            for k, v in fields.items()
        )
    )
