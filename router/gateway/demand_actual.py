"""The actual cost of an operation: the estimate's rules applied to the response, each list
counted by the items it really holds (Apollo Router's `cost.actual`)."""

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    get_named_type,
    is_composite_type,
    value_from_ast_untyped,
)
from graphql.execution.collect_fields import does_fragment_condition_match

from router.gateway.demand_arguments import argument_cost
from router.gateway.demand_estimate import MUTATION_COST, dropped, drops
from router.supergraph.costs import CostDirectives

Parent = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        costs: CostDirectives,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.costs = costs
        self.fragments = fragments
        self.variables = dict(variables)

    def _included(self, node: FieldNode | FragmentSpreadNode | InlineFragmentNode) -> bool:
        dropped_by = drops(node)
        return dropped_by is not None and not dropped(dropped_by, self.variables)

    def collect(
        self,
        node: SelectionSetNode,
        parent: Parent,
        runtime: GraphQLObjectType | None,
        into: dict[str, list[tuple[Parent, FieldNode]]],
    ) -> None:
        """The fields selected on an object of type `runtime` (when known), by response key."""
        for selection in node.selections:
            if not self._included(selection):  # type: ignore[arg-type]
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                into.setdefault(key, []).append((parent, selection))
                continue
            fragment: InlineFragmentNode | FragmentDefinitionNode
            if isinstance(selection, InlineFragmentNode):
                fragment = selection
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
            else:
                continue
            condition = fragment.type_condition
            name = condition.name.value if condition else None
            if runtime is None or does_fragment_condition_match(self.schema, fragment, runtime):
                inner = self.schema.get_type(name) if name else parent
                selections = fragment.selection_set
                assert isinstance(
                    inner, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType
                )
                self.collect(selections, inner, runtime, into)

    def _runtime(
        self, declared: GraphQLNamedType, value: Mapping[str, Any]
    ) -> GraphQLObjectType | None:
        if isinstance(declared, GraphQLObjectType):
            return declared
        named = value.get("__typename")
        found = self.schema.get_type(named) if isinstance(named, str) else None
        return found if isinstance(found, GraphQLObjectType) else None

    def object(
        self, selections: list[SelectionSetNode], declared: Parent, value: Mapping[str, Any]
    ) -> float:
        runtime = self._runtime(declared, value)
        fields: dict[str, list[tuple[Parent, FieldNode]]] = {}
        for node in selections:
            self.collect(node, declared, runtime, fields)
        total = 0.0
        for key, selected in fields.items():
            if key in value:
                total += self.field(selected, runtime, value[key])
        return total

    def field(
        self,
        selected: list[tuple[Parent, FieldNode]],
        runtime: GraphQLObjectType | None,
        value: Any,
    ) -> float:
        parent, node = selected[0]
        name = node.name.value
        owner = runtime if runtime is not None and name in runtime.fields else parent
        if isinstance(owner, GraphQLUnionType) or name.startswith("__"):
            return 0.0
        definition = owner.fields[name]
        returned = get_named_type(definition.type)
        weight = self.costs.field_weight(owner.name, name, returned.name)
        total = self._value(selected, returned, weight, value)
        for argument in node.arguments or ():
            argument_definition = definition.args.get(argument.name.value)
            if argument_definition is None:
                continue
            given = value_from_ast_untyped(argument.value, self.variables)
            type_name = get_named_type(argument_definition.type).name
            total += argument_cost(
                self.costs,
                None if given is Undefined else given,
                argument_definition.type,
                self.costs.argument_weight(owner.name, name, argument.name.value, type_name),
            )
        if owner is self.schema.mutation_type:
            total += MUTATION_COST
        return total

    def _value(
        self,
        selected: list[tuple[Parent, FieldNode]],
        returned: GraphQLNamedType,
        weight: float | None,
        value: Any,
    ) -> float:
        if isinstance(value, list):
            return sum(self._value(selected, returned, weight, item) for item in value)
        if isinstance(value, dict) and is_composite_type(returned):
            assert isinstance(returned, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)
            inner = [n.selection_set for _, n in selected if n.selection_set is not None]
            return (1.0 if weight is None else weight) + self.object(inner, returned, value)
        return weight or 0.0


def actual_cost(
    schema: GraphQLSchema,
    costs: CostDirectives,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    data: Mapping[str, Any],
    variables: Mapping[str, Any],
) -> float:
    """The cost of `data`, the response of `operation` (with `variables`, defaults applied)."""
    root = (
        schema.mutation_type if operation.operation is OperationType.MUTATION else schema.query_type
    )
    if root is None:
        return 0.0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return _Walk(schema, costs, fragments, variables).object([operation.selection_set], root, data)
