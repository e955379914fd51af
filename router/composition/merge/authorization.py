"""@requiresScopes / @policy from several subgraphs: all requirements hold (their conjunction)."""

from __future__ import annotations

from collections.abc import Sequence

from graphql.language import ListValueNode, StringValueNode

from router.federation.authorization import Clause, clauses_of, conjoin

from ..model import Directive

# directive -> its argument, a disjunction (outer list) of conjunctions (inner lists)
DNF_ARGUMENTS = {"requiresScopes": "scopes", "policy": "policies"}


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
