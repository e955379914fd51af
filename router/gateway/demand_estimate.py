"""The estimated cost of an operation, as Apollo Router's `static_estimated` strategy counts it
on the supergraph (IBM's GraphQL cost directives):

- a field returning an object, interface or union costs 1, a scalar or enum 0, unless `@cost`
  weighs the field (else its type); its selections are added to that;
- a list field multiplies that by its size: a sized field's parent list size (`sizedFields`),
  else the largest slicing argument given (`first`, `last`; literal, variable or default),
  else `@listSize(assumedSize:)`, else `list_size` of the configuration;
- arguments cost their `@cost` (see `demand_arguments`), once per field;
- every root field of a mutation costs 10 more (Apollo charges 10 per mutation fetch);
- fragments and inline fragments add up, whatever their type condition (as Apollo's does);
  a selection `@skip`ped or not `@include`d costs nothing.

An operation is compiled once into a formula: everything is folded into numbers except what
the request's variables decide (slicing arguments, conditions, arguments given as
variables), which is all an estimate per request evaluates.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
    value_from_ast_untyped,
)

from router.gateway.demand_arguments import argument_cost
from router.supergraph.costs import CostDirectives, ListSize

MUTATION_COST = 10.0
Variables = dict[str, Any]
Parent = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType


class CostError(Exception):
    """The operation cannot be costed as its schema asks (Apollo's COST_QUERY_PARSE_FAILURE)."""


class Term(Protocol):
    def value(self, variables: Variables) -> float: ...


class Count(Protocol):
    def size(self, variables: Variables) -> int | None: ...


Formula = float | Term
Size = int | None | Count  # None: this rule does not know the size


def evaluate(formula: Formula, variables: Variables) -> float:
    return formula if isinstance(formula, float) else formula.value(variables)


def _measure(size: Size, variables: Variables) -> int | None:
    return size if size is None or isinstance(size, int) else size.size(variables)


def integer(value: object) -> int | None:
    """A slicing argument's value as an integer: a JSON number with no fraction (what GraphQL's
    Int accepts), else None (absent, null, or refused later by variable validation)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


@dataclass(frozen=True, slots=True)
class _Sum:
    terms: tuple[Term, ...]
    constant: float

    def value(self, variables: Variables) -> float:
        return self.constant + sum(term.value(variables) for term in self.terms)


def _sum(parts: Iterable[Formula]) -> Formula:
    constant = 0.0
    terms: list[Term] = []
    for part in parts:
        if isinstance(part, float):
            constant += part
        else:
            terms.append(part)
    return _Sum(tuple(terms), constant) if terms else constant


@dataclass(frozen=True, slots=True)
class _Slicing:
    """The size a list's slicing arguments give: the largest given, negative counted as 0."""

    where: str
    names: tuple[str, ...]
    fixed: tuple[tuple[str, int], ...]  # argument defaults, overridden by literals
    variables: tuple[tuple[str, str], ...]  # argument -> the variable giving it
    assumed: int | None
    require_one: bool

    def size(self, variables: Variables) -> int | None:
        values = dict(self.fixed)
        for argument, variable in self.variables:
            number = integer(variables.get(variable))
            if number is not None:
                values[argument] = number
        if self.require_one and len(values) != 1:
            raise CostError(
                f"{self.where} takes exactly one of its slicing arguments "
                f"({', '.join(self.names)}), {len(values)} given"
            )
        return max(0, *values.values()) if values else self.assumed


@dataclass(frozen=True, slots=True)
class _FirstKnown:
    sizes: tuple[Size, ...]
    default: int

    def size(self, variables: Variables) -> int | None:
        for size in self.sizes:
            known = _measure(size, variables)
            if known is not None:
                return known
        return self.default


def _static(size: Size) -> Size:
    """The size itself when no variable decides it (and it can be computed now)."""
    if isinstance(size, _Slicing) and not size.variables:
        try:
            return size.size({})
        except CostError:
            return size  # raises each time it is evaluated
    if isinstance(size, _FirstKnown) and all(s is None or isinstance(s, int) for s in size.sizes):
        return size.size({})
    return size


@dataclass(frozen=True, slots=True)
class _Checked:
    """Nothing, once the size's rules hold (`requireOneSlicingArgument` on a field that is
    not a list itself, e.g. a connection)."""

    size: Count

    def value(self, variables: Variables) -> float:
        self.size.size(variables)
        return 0.0


@dataclass(frozen=True, slots=True)
class _Field:
    count: Size
    each: Formula
    once: Formula

    def value(self, variables: Variables) -> float:
        count = _measure(self.count, variables) or 0
        return count * evaluate(self.each, variables) + evaluate(self.once, variables)


@dataclass(frozen=True, slots=True)
class _Unless:
    """A selection dropped when a variable has a value (`@skip(if: $v)`: true)."""

    drops: tuple[tuple[str, bool], ...]
    inner: Term

    def value(self, variables: Variables) -> float:
        return 0.0 if dropped(self.drops, variables) else self.inner.value(variables)


def dropped(drops: tuple[tuple[str, bool], ...], variables: Mapping[str, Any]) -> bool:
    """Whether the variables drop a selection that `drops` (below) describes."""
    return any(variables.get(name) is value for name, value in drops)


@dataclass(frozen=True, slots=True)
class _Argument:
    costs: CostDirectives
    node: ValueNode
    type_: GraphQLInputType
    weight: float | None

    def value(self, variables: Variables) -> float:
        given = value_from_ast_untyped(self.node, variables)
        return argument_cost(
            self.costs, None if given is Undefined else given, self.type_, self.weight
        )


def argument_formula(
    costs: CostDirectives,
    parent: str,
    field: tuple[str, GraphQLField],
    name: str,
    value: ValueNode,
) -> Formula:
    """The cost of the argument `name` given as `value` to the field (name, definition)
    of the type `parent`."""
    field_name, definition_of_field = field
    definition = definition_of_field.args.get(name)
    if definition is None:
        return 0.0
    weight = costs.argument_weight(parent, field_name, name, get_named_type(definition.type).name)
    term = _Argument(costs, value, definition.type, weight)
    return term if _has_variables(value) else term.value({})


def _has_variables(node: ValueNode) -> bool:
    if isinstance(node, VariableNode):
        return True
    if isinstance(node, ListValueNode):
        return any(_has_variables(item) for item in node.values)
    if isinstance(node, ObjectValueNode):
        return any(_has_variables(item.value) for item in node.fields)
    return False


def drops(
    node: FieldNode | FragmentSpreadNode | InlineFragmentNode,
) -> tuple[tuple[str, bool], ...] | None:
    """When `@skip`/`@include` drop the selection: the (variable, value) pairs that do, or None
    when its literal arguments always do."""
    found: list[tuple[str, bool]] = []
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        dropping = name == "skip"  # the value of `if` that drops the selection
        for argument in directive.arguments or ():
            if argument.name.value != "if":
                continue
            if isinstance(argument.value, BooleanValueNode):
                if argument.value.value is dropping:
                    return None
            elif isinstance(argument.value, VariableNode):
                found.append((argument.value.name.value, dropping))
    return tuple(found)


def _default(argument: GraphQLArgument) -> object:
    if argument.default_value is not Undefined:
        return argument.default_value
    node = argument.ast_node
    if node is None or node.default_value is None:
        return None
    return value_from_ast_untyped(node.default_value)


@dataclass(frozen=True)
class _Sized:
    fields: frozenset[str]
    size: Size


class _Compiler:
    def __init__(
        self,
        schema: GraphQLSchema,
        costs: CostDirectives,
        list_size: int,
        fragments: Mapping[str, FragmentDefinitionNode],
    ) -> None:
        self.schema = schema
        self.costs = costs
        self.list_size = list_size
        self.fragments = fragments

    def selections(self, node: SelectionSetNode, parent: Parent, sized: _Sized | None) -> Formula:
        parts: list[Formula] = []
        for selection in node.selections:
            dropped_by = drops(selection)  # type: ignore[arg-type]
            if dropped_by is None:
                continue
            part: Formula
            if isinstance(selection, FieldNode):
                part = self.field(selection, parent, sized)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self._type(condition.name.value) if condition else parent
                part = self.selections(selection.selection_set, inner, sized)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                inner = self._type(fragment.type_condition.name.value)
                part = self.selections(fragment.selection_set, inner, sized)
            else:
                continue
            if dropped_by and part != 0.0:
                part = _Unless(dropped_by, _Sum((), part) if isinstance(part, float) else part)
            parts.append(part)
        return _sum(parts)

    def _type(self, name: str) -> Parent:
        found = self.schema.get_type(name)
        assert isinstance(found, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)
        return found

    def field(self, node: FieldNode, parent: Parent, sized: _Sized | None) -> Formula:
        name = node.name.value
        if isinstance(parent, GraphQLUnionType) or name.startswith("__"):
            return 0.0  # __typename, introspection
        definition = parent.fields[name]
        returned = get_named_type(definition.type)
        list_size = self.costs.list_sizes.get((parent.name, name))
        own = self._slicing(node, definition, list_size, f"{parent.name}.{name}")
        count: Size = 1
        checks: list[Formula] = []
        if is_list_type(get_nullable_type(definition.type)):
            upstream = sized.size if sized is not None and name in sized.fields else None
            count = _static(_FirstKnown((upstream, own), self.list_size))
        elif isinstance(own, _Slicing):
            checks.append(_Checked(own))
        weight = self.costs.field_weight(parent.name, name, returned.name)
        composite = is_composite_type(returned)
        each: Formula = weight if weight is not None else (1.0 if composite else 0.0)
        if node.selection_set is not None and composite:
            inner = _Sized(frozenset(list_size.sized_fields), own) if list_size else None
            each = _sum((each, self.selections(node.selection_set, returned, inner)))
        once = _sum(
            [
                argument_formula(self.costs, parent.name, (name, definition), a.name.value, a.value)
                for a in node.arguments or ()
            ]
            + ([MUTATION_COST] if parent is self.schema.mutation_type else [])
            + checks
        )
        if isinstance(count, int) and isinstance(each, float) and isinstance(once, float):
            return count * each + once
        return _Field(count, each, once)

    def _slicing(
        self, node: FieldNode, definition: GraphQLField, list_size: ListSize | None, where: str
    ) -> Size:
        if list_size is None:
            return None
        if not list_size.slicing_arguments:
            return list_size.assumed_size
        names = list_size.slicing_arguments
        fixed: dict[str, int] = {}
        for name in names:
            argument = definition.args.get(name)
            default = integer(_default(argument)) if argument is not None else None
            if default is not None:
                fixed[name] = default
        variables: list[tuple[str, str]] = []
        for given in node.arguments or ():
            name = given.name.value
            if name not in names:
                continue
            if isinstance(given.value, IntValueNode):
                fixed[name] = int(given.value.value)
            elif isinstance(given.value, VariableNode):
                variables.append((name, given.value.name.value))
        slicing = _Slicing(
            where,
            names,
            tuple(fixed.items()),
            tuple(variables),
            list_size.assumed_size,
            list_size.require_one_slicing_argument,
        )
        return _static(slicing)


@dataclass(frozen=True)
class OperationCost:
    """An operation's estimated cost, ready to evaluate with a request's variables."""

    formula: Formula
    defaults: Mapping[str, Any]  # the operation's variable defaults

    def estimate(self, variables: Mapping[str, Any] | None) -> float:
        """The estimate; CostError when the variables break a `@listSize` rule."""
        if isinstance(self.formula, float):
            return self.formula
        return self.formula.value({**self.defaults, **(variables or {})})


def compile_cost(
    schema: GraphQLSchema,
    costs: CostDirectives,
    list_size: int,
    document: DocumentNode,
    operation: OperationDefinitionNode,
) -> OperationCost:
    """The cost formula of a validated operation of the API schema `schema`."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    if root is None:
        raise CostError(f"the schema has no {operation.operation.value} type")
    formula = _Compiler(schema, costs, list_size, fragments).selections(
        operation.selection_set, root, None
    )
    defaults = {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    return OperationCost(formula, defaults)
