"""`@requiresScopes` / `@policy` arguments: a disjunction (outer list) of clauses (inner lists,
names all needed), and the conjunction of two such requirements."""

from __future__ import annotations

from graphql.language import ListValueNode, StringValueNode, ValueNode

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
