"""The actual cost of an operation: the estimate's rules applied to the response, each list
counted by the items it really holds (Apollo Router's `cost.actual`).

What each object of the response costs is planned once per operation, selection and runtime
type (and values of the `@skip`/`@include` variables), so that measuring a response is a
walk over its values only."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    Visitor,
    get_named_type,
    is_composite_type,
    visit,
)
from graphql.execution.collect_fields import does_fragment_condition_match

from router.gateway.demand_estimate import (
    MUTATION_COST,
    Formula,
    argument_formula,
    dropped,
    drops,
    evaluate,
)
from router.supergraph.costs import CostDirectives

Parent = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType
Selected = dict[str, list[tuple[Parent, FieldNode]]]  # by response key
MAX_PLANS = 4096  # per operation


class _Node:
    """The selections of one place of the operation, planned per runtime type."""

    __slots__ = ("by_runtime", "declared", "selections")

    def __init__(self, selections: tuple[SelectionSetNode, ...], declared: Parent) -> None:
        self.selections = selections
        self.declared = declared
        self.by_runtime: dict[GraphQLObjectType | None, tuple[_FieldPlan, ...]] = {}


@dataclass(frozen=True, slots=True)
class _FieldPlan:
    key: str
    leaf: float  # what a scalar, enum or null costs here
    object: float  # what an object costs here, before its own fields
    child: _Node | None  # its selections, when it returns objects
    once: Formula  # arguments (and 10 for a root field of a mutation), once per field


class _ConditionVariables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_directive(self, node: DirectiveNode, *_: object) -> None:
        if node.name.value in ("skip", "include"):
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    self.names.add(argument.value.name.value)


class ActualCost:
    """How to measure the responses of one operation."""

    def __init__(
        self,
        schema: GraphQLSchema,
        costs: CostDirectives,
        document: DocumentNode,
        operation: OperationDefinitionNode,
    ) -> None:
        self.schema = schema
        self.costs = costs
        self.operation = operation
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        mutation = operation.operation is OperationType.MUTATION
        self.root = schema.mutation_type if mutation else schema.query_type
        conditions = _ConditionVariables()
        visit(document, conditions)
        self.conditions = tuple(sorted(conditions.names))
        self._roots: dict[tuple[bool, ...], _Node] = {}

    def measure(self, data: Mapping[str, Any], variables: Mapping[str, Any]) -> float:
        """The cost of `data`, answered with `variables` (defaults applied)."""
        if self.root is None:
            return 0.0
        switches = tuple(variables.get(name) is True for name in self.conditions)
        root = self._roots.get(switches)
        if root is None:
            if len(self._roots) >= MAX_PLANS:  # variables switching many conditions
                self._roots.clear()
            root = self._roots[switches] = _Node((self.operation.selection_set,), self.root)
        return _Walk(self, dict(variables)).object(root, data)

    def fields(
        self, node: _Node, runtime: GraphQLObjectType | None, variables: dict[str, Any]
    ) -> tuple[_FieldPlan, ...]:
        """The fields `node` selects on an object of type `runtime` (when known)."""
        selected: Selected = {}
        for selections in node.selections:
            self._collect(selections, node.declared, runtime, variables, selected)
        planned = (self._field(key, fields, runtime) for key, fields in selected.items())
        # fields that cannot cost anything (most scalars) are not even looked at
        return tuple(f for f in planned if f.child is not None or f.leaf or f.once != 0.0)

    def _collect(
        self,
        node: SelectionSetNode,
        parent: Parent,
        runtime: GraphQLObjectType | None,
        variables: dict[str, Any],
        into: Selected,
    ) -> None:
        for selection in node.selections:
            dropped_by = drops(selection)  # type: ignore[arg-type]
            if dropped_by is None or dropped(dropped_by, variables):
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
            if runtime is not None and not does_fragment_condition_match(
                self.schema, fragment, runtime
            ):
                continue
            condition = fragment.type_condition
            inner = self.schema.get_type(condition.name.value) if condition else parent
            assert isinstance(inner, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)
            self._collect(fragment.selection_set, inner, runtime, variables, into)

    def _field(
        self, key: str, fields: list[tuple[Parent, FieldNode]], runtime: GraphQLObjectType | None
    ) -> _FieldPlan:
        parent, node = fields[0]
        name = node.name.value
        owner = runtime if runtime is not None and name in runtime.fields else parent
        if isinstance(owner, GraphQLUnionType) or name.startswith("__"):
            return _FieldPlan(key, 0.0, 0.0, None, 0.0)
        definition = owner.fields[name]
        returned = get_named_type(definition.type)
        weight = self.costs.field_weight(owner.name, name, returned.name)
        once: list[Formula] = [
            argument_formula(self.costs, owner.name, (name, definition), a.name.value, a.value)
            for a in node.arguments or ()
        ]
        if owner is self.schema.mutation_type:
            once.append(MUTATION_COST)
        constant = float(sum(part for part in once if isinstance(part, float)))
        dynamic = [part for part in once if not isinstance(part, float)]
        child = None
        if is_composite_type(returned):
            assert isinstance(returned, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)
            selections = tuple(n.selection_set for _, n in fields if n.selection_set is not None)
            child = _Node(selections, returned)
        return _FieldPlan(
            key,
            weight or 0.0,
            1.0 if weight is None else weight,
            child,
            _Parts(constant, tuple(dynamic)) if dynamic else constant,
        )


@dataclass(frozen=True, slots=True)
class _Parts:
    constant: float
    parts: tuple[Formula, ...]

    def value(self, variables: dict[str, Any]) -> float:
        return self.constant + sum(evaluate(part, variables) for part in self.parts)


class _Walk:
    def __init__(self, actual: ActualCost, variables: dict[str, Any]) -> None:
        self.actual = actual
        self.variables = variables

    def object(self, node: _Node, value: Mapping[str, Any]) -> float:
        declared = node.declared
        runtime: GraphQLObjectType | None
        if isinstance(declared, GraphQLObjectType):
            runtime = declared
        else:
            named = value.get("__typename")
            found = self.actual.schema.get_type(named) if isinstance(named, str) else None
            runtime = found if isinstance(found, GraphQLObjectType) else None
        fields = node.by_runtime.get(runtime)
        if fields is None:
            fields = node.by_runtime[runtime] = self.actual.fields(node, runtime, self.variables)
        total = 0.0
        for field in fields:
            if field.key in value:
                total += self._value(field, value[field.key])
                once = field.once
                total += once if isinstance(once, float) else once.value(self.variables)
        return total

    def _value(self, field: _FieldPlan, value: Any) -> float:
        if isinstance(value, list):
            return sum(self._value(field, item) for item in value)
        if isinstance(value, dict) and field.child is not None:
            return field.object + self.object(field.child, value)
        return field.leaf
