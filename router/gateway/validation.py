"""Validation against the API schema, with the costly rule on a work budget.

graphql-core's OverlappingFieldsCanBeMergedRule compares fields sharing a response name pair
by pair: 500 copies of one leaf under a field (1.5 KB) cost it 250,000 units of work, a
quarter of a second, and its own default budget (500,000) allows a second per document.
Realistic operations spend almost nothing (GraphiQL's introspection query 0, the public
gateways benchmark's query 30), so the router gives it far less; past the budget the
document is refused as too complex to validate.
"""

from functools import cache
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OverlappingFieldsCanBeMergedRule,
    ValidationContext,
    specified_rules,
    validate,
)
from graphql.validation.validate import ValidationAbortedError

VALIDATION_WORK = 20_000  # about 40 ms of comparisons at most


@cache
def _rules(budget: int) -> tuple[type[ASTValidationRule], ...]:
    class BudgetedOverlappingFields(OverlappingFieldsCanBeMergedRule):
        def __init__(self, context: ValidationContext, *args: Any) -> None:
            super().__init__(context, *args)
            self.rule_context.remaining_complexity_budget = budget

    return tuple(
        BudgetedOverlappingFields if rule is OverlappingFieldsCanBeMergedRule else rule
        for rule in specified_rules
    )


def _explained(problem: GraphQLError) -> GraphQLError:
    """graphql-core gives up with a bare "Validation aborted.": say what the client can do."""
    if isinstance(problem, ValidationAbortedError) and problem.message == "Validation aborted.":
        return GraphQLError(
            "The operation is too complex to validate: it repeats the same fields or "
            "fragments too often in one selection set."
        )
    return problem


def validate_operation(
    schema: GraphQLSchema, document: DocumentNode, budget: int = VALIDATION_WORK
) -> list[GraphQLError]:
    return [_explained(problem) for problem in validate(schema, document, _rules(budget))]
