"""Satisfiable stage: every field of the supergraph must be resolvable from a root."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NewType

from router.federation.typerefs import named_type

from ..errors import ErrorSink
from ..expand import Expanded
from ..fieldset import print_field_set
from ..model import Kind, has
from ..supergraph import Supergraph
from .contexts import context_rules
from .reach import CheckedField, Node, Reachability, can_enter, explore
from .witness import query_text, witness_field

COMPOSITE = (Kind.OBJECT, Kind.INTERFACE, Kind.UNION)

# a supergraph in which every field is reachable from a root
Satisfiable = NewType("Satisfiable", Supergraph)


def _resolvers(reach: Reachability, type_name: str, field_name: str) -> list[Expanded]:
    return [s for s in reach.subgraphs.values() if reach.resolves(s.name, type_name, field_name)]


def _via_interface_object(
    subgraphs: Sequence[Expanded], interfaces: Sequence[str], field_name: str
) -> bool:
    return any(
        itf in s.interface_objects and field_name in s.types[itf].fields and can_enter(s, itf)
        for s in subgraphs
        for itf in interfaces
    )


def _why_not(
    reach: Reachability, origin: str, target: Expanded, type_name: str, field_name: str
) -> list[str]:
    """Why the query cannot continue in `target`, or nothing when that is not the problem."""
    keys = target.keys.get(type_name, [])
    has_field = reach.resolves(target.name, type_name, field_name)
    where = f'cannot move to subgraph "{target.name}", which has field "{type_name}.{field_name}"'
    if not keys:
        no_key = f'because type "{type_name}" has no @key defined in subgraph "{target.name}".'
        return [f"{where}, {no_key}"] if has_field else []
    if not any(k.resolvable for k in keys):
        return (
            [
                f'{where}, because none of the @key defined on type "{type_name}" in subgraph'
                f' "{target.name}" are resolvable (they are all declared with their "resolvable"'
                " argument set to false)."
            ]
            if has_field
            else []
        )
    if target.name in reach.key_closure(type_name, origin):
        return []
    return [
        f'cannot move to subgraph "{target.name}" using @key(fields:'
        f' "{print_field_set(k.selections or ())}") of "{type_name}", the key field(s) cannot be'
        f' resolved from subgraph "{origin}".'
        for k in keys
        if k.resolvable
    ]


def _context_reasons(reach: Reachability, node: Node, name: str) -> list[str]:
    """The field is there but reads a context no object above sets: said for every subgraph
    the query can be in at this point."""
    type_name = node.type_name
    moved = {s for o in node.options for s in reach.key_closure(type_name, o)} - node.options
    return [
        f'- from subgraph "{state}": '
        + (
            f'could not find a match for required context for field "{type_name}.{name}".'
            if reach.resolves(state, type_name, name)
            else f'cannot find field "{type_name}.{name}".'
        )
        for state in [*sorted(node.options), *sorted(moved)]
    ]


def _report(
    sink: ErrorSink,
    reach: Reachability,
    supergraph: Supergraph,
    node: Node,
    checked: CheckedField,
) -> None:
    subgraphs = list(reach.subgraphs.values())
    type_name, name = node.type_name, checked.name
    resolvers = _resolvers(reach, type_name, name)
    reasons = []
    states = {s for o in node.options for s in reach.key_closure(type_name, o)}
    if any(reach.resolves(s, type_name, name) for s in states):  # only a context is missing
        reasons = _context_reasons(reach, node, name)
    for origin in sorted(node.options) if not reasons else ():
        lines = [f'- from subgraph "{origin}":', f'  - cannot find field "{type_name}.{name}".']
        others = [s for s in subgraphs if s.name != origin and type_name in s.types]
        lines += [
            f"  - {line}" for s in others for line in _why_not(reach, origin, s, type_name, name)
        ]
        reasons.append("\n".join(lines))
    target = supergraph.types.get(checked.target)
    composite = target is not None and target.kind in COMPOSITE
    query = query_text(node.path[0], [*node.path[1:], checked.witness], composite)
    sink.add(
        "SATISFIABILITY_ERROR",
        f"The following supergraph API query:\n{query}\ncannot be satisfied by the subgraphs"
        " because:\n" + "\n".join(reasons),
        sorted({*node.options, *(r.name for r in resolvers)}),
        f"{type_name}.{name}",
        f'Add a resolvable @key to "{type_name}" in subgraph'
        f' "{resolvers[0].name if resolvers else "?"}", or resolve "{type_name}.{name}" in a'
        " subgraph the query can reach.",
    )


def _checked_fields(
    supergraph: Supergraph, subgraphs: Sequence[Expanded]
) -> dict[str, list[CheckedField]]:
    """Per composite type, the fields to check (those an @interfaceObject answers are left out)."""
    hidden = _inaccessible_name(supergraph)
    result: dict[str, list[CheckedField]] = {}
    for type_name, typedef in supergraph.types.items():
        if typedef.kind not in COMPOSITE or has(typedef, hidden):
            continue
        result[type_name] = [
            CheckedField(name, named_type(fdef.type), witness_field(fdef, supergraph.types, hidden))
            for name, fdef in typedef.fields.items()
            if typedef.kind is Kind.OBJECT
            and not has(fdef, hidden)
            and not _via_interface_object(subgraphs, typedef.interfaces, name)
        ]
    return result


def _inaccessible_name(supergraph: Supergraph) -> str:
    """Checks run on the API schema: what @inaccessible hides is left out."""
    link = next((f for f in supergraph.features if f.name == "inaccessible"), None)
    return (link.local_name or link.name) if link else "inaccessible"


def check_satisfiability(
    supergraph: Supergraph, subgraphs: Sequence[Expanded], sink: ErrorSink
) -> Satisfiable | None:
    reach = Reachability({s.name: s for s in subgraphs})
    fields = _checked_fields(supergraph, subgraphs)
    rules = context_rules(subgraphs)
    failures = explore(reach, list(supergraph.roots.values()), fields, rules)
    for node, checked in failures:
        _report(sink, reach, supergraph, node, checked)
    return None if failures else Satisfiable(supergraph)
