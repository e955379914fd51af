"""Input every subgraph refuses before any resolver runs: empty selection sets (the grammar
requires a selection), variable values nested deeper than a document may be, and NUL
characters in text (PostgreSQL cannot store them; its driver would fail mid-request)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import DocumentNode, GraphQLError, StringValueNode, Visitor, visit
from strawberry.extensions import SchemaExtension

from common.errors import ErrorCode

# graphql-core's bound on how deep a document nests (its parser's MAX_NESTING_DEPTH): a
# variable's value is held to the same, as the router holds it (router.gateway.variables).
MAX_VARIABLE_DEPTH = 200
NUL = "\x00"
NUL_MESSAGE = "Text input must not contain a NUL character (U+0000)."


def _input_error(message: str, nodes: list[StringValueNode] | None = None) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": ErrorCode.BAD_USER_INPUT.value})


class _NulLiterals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[StringValueNode] = []

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if NUL in node.value:
            self.found.append(node)


def literal_problems(query: str, document: DocumentNode) -> list[GraphQLError]:
    # A NUL reaches a string literal only as itself or as a \u escape: most queries skip the walk.
    if NUL not in query and "\\u" not in query:
        return []
    literals = _NulLiterals()
    visit(document, literals)
    return [_input_error(NUL_MESSAGE, [node]) for node in literals.found]


def _variable_problem(name: str, value: Any) -> GraphQLError | None:
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if NUL in item:
                return _input_error(f"Variable '${name}': {NUL_MESSAGE}")
            continue
        if isinstance(item, dict):
            pending.extend((key, depth) for key in item)
            item = item.values()
        elif not isinstance(item, list):
            continue
        if depth == MAX_VARIABLE_DEPTH:
            return _input_error(
                f"Variable '${name}' is nested more than {MAX_VARIABLE_DEPTH} levels deep."
            )
        pending.extend((child, depth + 1) for child in item)
    return None


def variable_problems(variables: Mapping[str, Any] | None) -> list[GraphQLError]:
    found = (_variable_problem(name, value) for name, value in (variables or {}).items())
    return [problem for problem in found if problem is not None]


class RefuseMalformedInput(SchemaExtension):
    """Must come after ValidationCache, which sets the validation errors this adds to."""

    def on_operation(self) -> Iterator[None]:
        options: dict[str, Any] = self.execution_context.parse_options  # type: ignore[assignment]
        options["allow_empty_selection_sets"] = False
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if not context.pre_execution_errors and context.graphql_document is not None:
            problems = literal_problems(context.query or "", context.graphql_document)
            problems += variable_problems(context.variables)
            if problems:
                context.pre_execution_errors = problems
        yield
