"""Bounds on a client's variable values that hold before any GraphQL coercion."""

from collections.abc import Mapping
from typing import Any

from router import jsonio

# The GraphQL parser's bound on a document (graphql-core's MAX_NESTING_DEPTH): a value nested
# this deep is refused alike as a literal and as a variable (coercion follows the type only,
# so a custom scalar's value, JSON, would otherwise pass at any depth).
MAX_VARIABLE_DEPTH = 200


def variables_problem(variables: Mapping[str, Any]) -> str | None:
    if jsonio.nested_deeper_than(variables, MAX_VARIABLE_DEPTH + 1):
        return f"variable values are nested more than {MAX_VARIABLE_DEPTH} levels deep"
    return None
