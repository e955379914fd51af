"""What an operation's arguments cost, as Apollo Router scores them: `@cost` of the argument
(else of its type), an input object 1 unless weighted plus its given fields, a list its weight
plus each item, null nothing."""

from typing import Any

from graphql import (
    GraphQLInputObjectType,
    GraphQLInputType,
    get_named_type,
)

from router.supergraph.costs import CostDirectives


def argument_cost(
    costs: CostDirectives, value: Any, type_: GraphQLInputType, weight: float | None
) -> float:
    """The cost of `value` given for an argument (or input field) of `type_` weighing
    `weight`; a value not of the type (refused later by validation of the variables) costs
    what a scalar would."""
    if value is None:
        return 0.0
    if isinstance(value, list):
        return (weight or 0.0) + sum(argument_cost(costs, item, type_, weight) for item in value)
    named = get_named_type(type_)
    if isinstance(value, dict) and isinstance(named, GraphQLInputObjectType):
        total = 1.0 if weight is None else weight
        for name, item in value.items():
            field = named.fields.get(name)
            if field is None:
                continue
            field_type = get_named_type(field.type)
            own = costs.fields.get((named.name, name))
            total += argument_cost(
                costs,
                item,
                field.type,
                own if own is not None else costs.types.get(field_type.name),
            )
        return total
    return weight or 0.0
