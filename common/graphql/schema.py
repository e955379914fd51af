"""Every subgraph's Strawberry Federation v2 schema: client errors and operation limits built in."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import strawberry
from graphql import DocumentNode, OperationDefinitionNode, OverlappingFieldsCanBeMergedRule
from graphql.error import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES, StreamResult
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from common.graphql.cache_control.extension import ResponseCacheControl
from common.graphql.errors import ClientErrors, client_error
from common.graphql.inputs import RefuseMalformedInput
from common.graphql.operation_limits import budgeted_overlapping_fields, operation_limits_rule
from common.graphql.operation_metrics import OperationMetrics
from common.graphql.prepared import (
    RUN_HERE,
    STREAM_HERE,
    PreparedDocuments,
    operation_to_run,
    remember_accepted,
    run_prepared,
    stream_prepared,
)
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
    """Strawberry's federation schema with the platform's extensions; a query text it has
    accepted once runs straight on graphql-core afterwards (`common.graphql.prepared`)."""

    def __init__(self, **kwargs: Any) -> None:
        self.prepared = PreparedDocuments()
        # A subgraph's own extensions would be skipped by the prepared path: it is off then.
        self._prepare = not kwargs.get("extensions")
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
            remember_accepted(self.prepared),
        ]
        super().__init__(**kwargs)

    def _prepared(
        self,
        query: str | None,
        context_value: Any | None,
        operation_name: str | None,
        variable_values: dict[str, Any] | None,
        allowed_operation_types: Iterable[OperationType] | None,
        kinds: frozenset[OperationType] = RUN_HERE,
    ) -> tuple[DocumentNode, OperationDefinitionNode] | None:
        """The accepted document and the operation of it the prepared path runs (`kinds`:
        queries and mutations, or `STREAM_HERE`); None: Strawberry's whole path answers."""
        document = self.prepared.get(query)
        if (
            document is None
            or not self._prepare
            or self.directives
            or not hasattr(context_value, "cache_policy")
        ):
            return None
        allowed = allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES
        operation = operation_to_run(document, operation_name, variable_values, allowed, kinds)
        return None if operation is None else (document, operation)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        prepared = self._prepared(
            query, context_value, operation_name, variable_values, allowed_operation_types
        )
        if prepared is None:
            return await super().execute(
                query,
                variable_values,
                context_value,
                root_value,
                operation_name,
                allowed_operation_types,
                operation_extensions,
            )
        document, operation = prepared
        return await run_prepared(
            self._schema,
            document,
            operation,
            context=context_value,
            root_value=root_value,
            variables=variable_values,
            executor=self.execution_context_class,
            operation_extensions=operation_extensions,
        )

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> StreamResult:
        """A subscription whose text was accepted before streams without the extensions
        (`common.graphql.prepared.stream_prepared`); anything else as Strawberry streams it."""
        prepared = self._prepared(
            query,
            context_value,
            operation_name,
            variable_values,
            allowed_operation_types,
            STREAM_HERE,
        )
        if prepared is None:
            return await super().stream(
                query,
                variable_values,
                context_value,
                root_value,
                operation_name,
                operation_extensions,
                allowed_operation_types,
            )
        document, operation = prepared
        return stream_prepared(
            self._schema,
            document,
            operation,
            context=context_value,
            root_value=root_value,
            variables=variable_values,
            executor=self.execution_context_class,
            operation_extensions=operation_extensions,
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Rewrite in place: some errors (a query over the token limit) skip the extensions.

        Unexpected errors are logged once by :func:`client_error`; the rest are the client's.
        """
        errors[:] = [client_error(error) for error in errors]
