"""Collecting the client's fields for one type, through named and inline fragments."""

from dataclasses import dataclass, field

from graphql import (
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)

from router.planning.selection import conditions_key
from router.supergraph.model import Supergraph

_CONDITIONS = frozenset({"skip", "include"})


@dataclass
class CField:
    name: str
    alias: str | None
    node: FieldNode
    conditions: tuple[DirectiveNode, ...]
    selection_sets: list[SelectionSetNode] = field(default_factory=list)

    @property
    def response_key(self) -> str:
        return self.alias or self.name


@dataclass
class Collected:
    fields: list[CField]
    skipped: bool  # some fragment did not apply to this type


def type_applies(supergraph: Supergraph, condition: str | None, type_name: str) -> bool:
    if condition is None or condition == type_name:
        return True
    info = supergraph.types.get(condition)
    return info is not None and type_name in info.possible.get(None, ())


def _conditions(
    node: FieldNode | FragmentSpreadNode | InlineFragmentNode,
) -> tuple[DirectiveNode, ...]:
    return tuple(d for d in node.directives or () if d.name.value in _CONDITIONS)


class _Collector:
    def __init__(
        self, supergraph: Supergraph, fragments: dict[str, FragmentDefinitionNode], type_name: str
    ) -> None:
        self.supergraph = supergraph
        self.fragments = fragments
        self.type_name = type_name
        self.by_key: dict[tuple[str, str], CField] = {}
        self.skipped = False
        # A fragment spread again under the same conditions adds nothing (the spec's
        # "visited fragments"): walking it once keeps collection linear in the document.
        self.spread: set[tuple[str, str]] = set()

    def walk(self, selection_set: SelectionSetNode, conditions: tuple[DirectiveNode, ...]) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.add(selection, conditions + _conditions(selection))
                continue
            if isinstance(selection, FragmentSpreadNode):
                visit = (selection.name.value, conditions_key(conditions + _conditions(selection)))
                if visit in self.spread:
                    continue
                self.spread.add(visit)
                fragment = self.fragments[selection.name.value]
                condition: str | None = fragment.type_condition.name.value
                inner = fragment.selection_set
            else:
                assert isinstance(selection, InlineFragmentNode)
                condition = (
                    selection.type_condition.name.value if selection.type_condition else None
                )
                inner = selection.selection_set
            if type_applies(self.supergraph, condition, self.type_name):
                self.walk(inner, conditions + _conditions(selection))
            else:
                self.skipped = True

    def add(self, node: FieldNode, conditions: tuple[DirectiveNode, ...]) -> None:
        alias = node.alias.value if node.alias else None
        key = (alias or node.name.value, conditions_key(conditions))
        cfield = self.by_key.get(key)
        if cfield is None:
            cfield = self.by_key[key] = CField(node.name.value, alias, node, conditions)
        if node.selection_set is not None:
            cfield.selection_sets.append(node.selection_set)


def collect_fields(
    supergraph: Supergraph,
    fragments: dict[str, FragmentDefinitionNode],
    type_name: str,
    selection_sets: list[SelectionSetNode],
) -> Collected:
    collector = _Collector(supergraph, fragments, type_name)
    for selection_set in selection_sets:
        collector.walk(selection_set, ())
    return Collected(list(collector.by_key.values()), collector.skipped)
