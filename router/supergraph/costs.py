"""The demand control directives of a supergraph (`@link`ed to
https://specs.apollo.dev/cost/v0.1, IBM's GraphQL cost directives): `@cost(weight:)` on
fields, types, arguments and input fields, `@listSize` on list fields."""

from dataclasses import dataclass, field

from graphql import (
    ConstDirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    value_from_ast_untyped,
)

from router.federation.links import Link
from router.supergraph.errors import SupergraphError

COST_SPEC = "cost"


@dataclass(frozen=True)
class ListSize:
    """`@listSize` of a list field: how many items it returns."""

    assumed_size: int | None = None
    slicing_arguments: tuple[str, ...] = ()
    sized_fields: tuple[str, ...] = ()  # fields of the returned type sized like this list
    require_one_slicing_argument: bool = True


@dataclass(frozen=True)
class CostDirectives:
    types: dict[str, float] = field(default_factory=dict)  # objects, scalars, enums
    fields: dict[tuple[str, str], float] = field(default_factory=dict)  # output and input
    arguments: dict[tuple[str, str, str], float] = field(default_factory=dict)
    list_sizes: dict[tuple[str, str], ListSize] = field(default_factory=dict)

    def field_weight(self, parent: str, name: str, returned: str) -> float | None:
        """The `@cost` of a field: its own, else its type's."""
        own = self.fields.get((parent, name))
        return own if own is not None else self.types.get(returned)

    def argument_weight(self, parent: str, name: str, argument: str, type_: str) -> float | None:
        own = self.arguments.get((parent, name, argument))
        return own if own is not None else self.types.get(type_)


def _arguments(directive: ConstDirectiveNode) -> dict[str, object]:
    return {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()}


def _weight(directive: ConstDirectiveNode, where: str) -> float:
    weight = _arguments(directive).get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int | float | str):
        raise SupergraphError(f"@cost on {where} has no numeric weight")
    try:
        return float(weight)  # IBM's spec writes weights as strings ("2.0")
    except ValueError as bad:
        raise SupergraphError(f"@cost on {where}: weight {weight!r} is not a number") from bad


def _names(value: object, where: str, argument: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SupergraphError(f"@listSize on {where}: {argument} is not a list of names")
    return tuple(value)


def _list_size(directive: ConstDirectiveNode, where: str) -> ListSize:
    args = _arguments(directive)
    assumed = args.get("assumedSize")
    if assumed is not None and (isinstance(assumed, bool) or not isinstance(assumed, int)):
        raise SupergraphError(f"@listSize on {where}: assumedSize is not an integer")
    return ListSize(
        assumed_size=assumed,
        slicing_arguments=_names(args.get("slicingArguments"), where, "slicingArguments"),
        sized_fields=_names(args.get("sizedFields"), where, "sizedFields"),
        require_one_slicing_argument=args.get("requireOneSlicingArgument", True) is not False,
    )


def read_cost_directives(document: DocumentNode, links: dict[str, Link]) -> CostDirectives:
    """The supergraph's `@cost`/`@listSize`, under the names its `@link` gives them."""
    link = links.get(COST_SPEC)
    if link is None:
        return CostDirectives()
    cost_name, list_size_name = link.directive("cost"), link.directive("listSize")
    costs = CostDirectives()
    for definition in document.definitions:
        if not isinstance(
            definition,
            ObjectTypeDefinitionNode
            | InterfaceTypeDefinitionNode
            | InputObjectTypeDefinitionNode
            | ScalarTypeDefinitionNode
            | EnumTypeDefinitionNode,
        ):
            continue
        type_name = definition.name.value
        for directive in definition.directives or ():
            if directive.name.value == cost_name:
                costs.types[type_name] = _weight(directive, type_name)
        for field_node in getattr(definition, "fields", None) or ():
            where = f"{type_name}.{field_node.name.value}"
            key = (type_name, field_node.name.value)
            for directive in field_node.directives or ():
                if directive.name.value == cost_name:
                    costs.fields[key] = _weight(directive, where)
                elif directive.name.value == list_size_name:
                    costs.list_sizes[key] = _list_size(directive, where)
            for argument in getattr(field_node, "arguments", None) or ():
                for directive in argument.directives or ():
                    if directive.name.value == cost_name:
                        weight = _weight(directive, f"{where}({argument.name.value}:)")
                        costs.arguments[(*key, argument.name.value)] = weight
    return costs
