"""Every subgraph's Strawberry Federation v2 schema: client errors and operation limits built in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import OverlappingFieldsCanBeMergedRule
from graphql.error import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from common.graphql.cache_control.extension import ResponseCacheControl
from common.graphql.errors import ClientErrors, client_error
from common.graphql.inputs import RefuseMalformedInput
from common.graphql.operation_limits import budgeted_overlapping_fields, operation_limits_rule
from common.graphql.operation_metrics import OperationMetrics
from common.graphql.tracing import graphql_spans

MAX_DEPTH = 16  # levels of fields, the root fields being the first
MAX_TOKENS = 5000
MAX_ALIASES = 50
MAX_SELECTIONS = 5000  # fields, spreads and inline fragments, every fragment spread expanded
# Built once: ValidationCache keys on the rules, so a rule made per request would never let a
# validation be reused.
VALIDATION_WORK = 20_000  # units graphql-core may spend comparing same-named fields
LIMIT_RULES = (operation_limits_rule(MAX_DEPTH, MAX_ALIASES, MAX_SELECTIONS),)
_OVERLAPPING_FIELDS = budgeted_overlapping_fields(VALIDATION_WORK)


class LimitedValidation(AddValidationRules):
    """The limit rules added, and graphql-core's overlapping-fields rule on a budget."""

    def __init__(self) -> None:
        super().__init__(list(LIMIT_RULES))

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = tuple(
            _OVERLAPPING_FIELDS if rule is OverlappingFieldsCanBeMergedRule else rule
            for rule in context.validation_rules
        )
        yield from super().on_operation()


class ServiceSchema(strawberry.federation.Schema):
    def __init__(self, **kwargs: Any) -> None:
        kwargs["extensions"] = [
            *kwargs.get("extensions", ()),
            ClientErrors,
            OperationMetrics,
            ResponseCacheControl,
            LimitedValidation,
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: ParserCache(maxsize=1000),
            lambda: ValidationCache(maxsize=1000),
            RefuseMalformedInput,  # after ValidationCache: it adds to the validation errors
            graphql_spans,
        ]
        super().__init__(**kwargs)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Rewrite in place: some errors (a query over the token limit) skip the extensions.

        Unexpected errors are logged once by :func:`client_error`; the rest are the client's.
        """
        errors[:] = [client_error(error) for error in errors]
