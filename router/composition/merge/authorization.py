"""@requiresScopes / @policy from several subgraphs: all requirements hold (their conjunction)."""

from __future__ import annotations

from collections.abc import Sequence

from graphql.language import ListValueNode, StringValueNode, ValueNode

from ..model import Directive

# directive -> its argument, a disjunction (outer list) of conjunctions (inner lists)
DNF_ARGUMENTS = {"requiresScopes": "scopes", "policy": "policies"}

Clause = tuple[str, ...]


def clauses_of(value: ValueNode | None) -> list[Clause]:
    """A `[[String]]` argument as clauses (each a sorted set of names)."""
    if not isinstance(value, ListValueNode):
        return []
    return [
        tuple(sorted({v.value for v in inner.values if isinstance(v, StringValueNode)}))
        for inner in value.values
        if isinstance(inner, ListValueNode)
    ]


def conjoin(left: list[Clause], right: list[Clause]) -> list[Clause]:
    """Both disjunctions at once, as one minimal disjunction (redundant clauses dropped)."""
    product = {tuple(sorted(set(a) | set(b))) for a in left for b in right}
    minimal = [c for c in product if not any(set(o) < set(c) for o in product)]
    return sorted(minimal, key=lambda c: (len(c), c))


def _value(clauses: list[Clause]) -> ListValueNode:
    return ListValueNode(
        values=tuple(
            ListValueNode(values=tuple(StringValueNode(value=v) for v in clause))
            for clause in clauses
        )
    )


def conjunction(applications: Sequence[Directive]) -> Directive:
    """One application requiring everything the given ones require."""
    first = applications[0]
    if len(applications) == 1:
        return first
    argument = DNF_ARGUMENTS[first.name]
    clauses = clauses_of(first.args.get(argument))
    for other in applications[1:]:
        clauses = conjoin(clauses, clauses_of(other.args.get(argument)))
    return Directive(first.name, {argument: _value(clauses)})
