"""Depth, aliases and selections after fragment expansion, checked as one validation rule.

Each fragment is measured once (leaves first) and reused wherever it is spread, so the check
is linear in the document: a few hundred bytes of fragments spreading each other ten times
expand to billions of selections, and are refused in microseconds
(MAX_RECURSIVE_SELECTIONS_LIMIT).
(Strawberry's QueryDepthLimiter and MaxAliasesLimiter walk every spread again: seconds.)
"""

from __future__ import annotations

from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OverlappingFieldsCanBeMergedRule,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)


@dataclass(frozen=True, slots=True)
class OperationSize:
    depth: int  # field levels, the root fields being the first
    aliases: int
    selections: int  # fields, spreads and inline fragments, every spread expanded


_NOTHING = OperationSize(0, 0, 0)


def _spreads(node: SelectionSetNode) -> set[str]:
    names: set[str] = set()
    pending = [node]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                names.add(selection.name.value)
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                pending.append(selection.selection_set)
    return names


class _Sizes:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        graph = {
            name: _spreads(node.selection_set) & fragments.keys()
            for name, node in fragments.items()
        }
        try:
            order = list(TopologicalSorter(graph).static_order())
        except CycleError:  # reported by NoFragmentCyclesRule; nothing sensible to measure
            order = []
        self.fragments: dict[str, OperationSize] = {}
        for name in order:
            self.fragments[name] = self.of(fragments[name].selection_set)

    def of(self, node: SelectionSetNode) -> OperationSize:
        depth = aliases = 0
        selections = len(node.selections)
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                aliases += selection.alias is not None
                below = self.of(selection.selection_set) if selection.selection_set else _NOTHING
                depth = max(depth, 1 + below.depth)
            elif isinstance(selection, InlineFragmentNode):
                below = self.of(selection.selection_set)
                depth = max(depth, below.depth)
            else:
                assert isinstance(selection, FragmentSpreadNode)
                below = self.fragments.get(selection.name.value, _NOTHING)
                depth = max(depth, below.depth)
            aliases += below.aliases
            selections += below.selections
        return OperationSize(depth, aliases, selections)


def operation_sizes(document: DocumentNode) -> dict[OperationDefinitionNode, OperationSize]:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    sizes = _Sizes(fragments)
    return {
        d: sizes.of(d.selection_set)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    }


def operation_limits_rule(
    max_depth: int, max_aliases: int, max_selections: int
) -> type[ValidationRule]:
    """A graphql-core validation rule refusing operations past any of the three limits."""

    class OperationLimitsRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> Any:
            for operation, size in operation_sizes(node).items():
                for value, limit, what, code in (
                    (
                        size.selections,
                        max_selections,
                        "selections once its fragments are spread",
                        "MAX_RECURSIVE_SELECTIONS_LIMIT",
                    ),
                    (size.depth, max_depth, "levels of nesting", "MAX_DEPTH_LIMIT"),
                    (size.aliases, max_aliases, "aliases", "MAX_ALIASES_LIMIT"),
                ):
                    if value > limit:
                        self.report_error(
                            GraphQLError(
                                f"The operation has {value} {what}; the limit is {limit}.",
                                operation,
                                extensions={"code": code},
                            )
                        )
            return self.SKIP

    return OperationLimitsRule


def budgeted_overlapping_fields(budget: int) -> type[ValidationRule]:
    """graphql-core's overlapping-fields rule held to `budget` units of work (500 copies of
    one leaf cost it 250,000, a quarter of a second; realistic operations almost none)."""

    class BudgetedOverlappingFields(OverlappingFieldsCanBeMergedRule):
        def __init__(self, context: ValidationContext, *args: Any) -> None:
            super().__init__(context, *args)
            self.rule_context.remaining_complexity_budget = budget

    return BudgetedOverlappingFields
