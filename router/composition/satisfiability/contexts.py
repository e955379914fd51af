"""Contexts in satisfiability: a field with `@fromContext` arguments is resolvable only below
an object that sets each of its contexts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..context_checks import referenced_context
from ..expand import Expanded, string_arg
from ..model import Kind, applied


@dataclass(frozen=True)
class ContextRules:
    # type -> contexts (named as in the supergraph) its objects set for what lies below them
    provided: dict[str, frozenset[str]] = field(default_factory=dict)
    # (subgraph, type, field) -> contexts the field's arguments read
    required: dict[tuple[str, str, str], frozenset[str]] = field(default_factory=dict)

    def satisfied(
        self, sub: str, type_name: str, field_name: str, available: frozenset[str]
    ) -> bool:
        return self.required.get((sub, type_name, field_name), frozenset()) <= available

    def below(self, type_name: str, available: frozenset[str]) -> frozenset[str]:
        return available | self.provided.get(type_name, frozenset())


def context_rules(subgraphs: Sequence[Expanded]) -> ContextRules:
    own: dict[str, set[str]] = {}
    required: dict[tuple[str, str, str], frozenset[str]] = {}
    for sub in subgraphs:
        for typedef in sub.types.values():
            for directive in applied(typedef, "context"):
                name = string_arg(directive, "name")
                if name:
                    own.setdefault(typedef.name, set()).add(f"{sub.name}__{name}")
            for fdef in typedef.fields.values():
                contexts = {
                    f"{sub.name}__{context}"
                    for arg in fdef.args.values()
                    for directive in applied(arg, "fromContext")
                    if (context := referenced_context(string_arg(directive, "field") or ""))
                }
                if contexts:
                    required[(sub.name, typedef.name, fdef.name)] = frozenset(contexts)
    if not required:
        return ContextRules()
    provided: dict[str, frozenset[str]] = {}
    for sub in subgraphs:
        for typedef in sub.types.values():
            found = set(own.get(typedef.name, ()))
            for interface in typedef.interfaces:
                found |= own.get(interface, set())
            if typedef.kind is Kind.OBJECT:
                for union in sub.types.values():
                    if typedef.name in union.members:
                        found |= own.get(union.name, set())
            if found:
                provided[typedef.name] = provided.get(typedef.name, frozenset()) | found
    return ContextRules(provided, required)
