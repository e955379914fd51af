"""The request pipeline: parse → validate → plan → execute → shape, with caches."""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    parse,
    validate,
)
from graphql.execution.values import VariableValues, get_variable_values

from router import jsonio
from router.execution import ExecutionState, execute_plan
from router.execution.errors import error
from router.execution.prepared import PreparedOperation
from router.lru import LRU
from router.planning import PlanningError, plan
from router.planning.plan import select_operation
from router.policies.authentication import Caller
from router.policies.authorization import (
    Authorization,
    AuthorizationConfig,
    find_guards,
    without,
)
from router.server.limits import Limits, check_limits
from router.supergraph.model import Supergraph
from router.transport.base import Transport

MAX_QUERY_BYTES = 256 * 1024
MAX_TOKENS = 15_000


_NO_VARIABLES = VariableValues(sources={}, coerced={})
FORWARDED_HEADERS = frozenset({"authorization", "x-forwarded-for"})
DedupKey = tuple[str, str | None, bytes, str | None]


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: Mapping[str, Any] | None = None
    operation_name: str | None = None
    headers: Mapping[str, str] | None = None
    method: str = "POST"
    uploads: bool = False  # a multipart request: variables may hold `UploadedFile`s


@dataclass(frozen=True)
class GraphQLResponse:
    status: int
    body: dict[str, Any]
    allow: str | None = None


def _failure(status: int, message: str, code: str) -> GraphQLResponse:
    return GraphQLResponse(status, {"errors": [error(message, code)]})


def _errors(errors: list[GraphQLError], code: str) -> GraphQLResponse:
    formatted = []
    for item in errors:
        entry = item.formatted
        entry["extensions"] = {"code": code, **(entry.get("extensions") or {})}
        formatted.append(entry)
    return GraphQLResponse(400, {"errors": formatted})


class Gateway:
    def __init__(
        self,
        supergraph: Supergraph,
        transport: Transport,
        document_cache_size: int = 1024,
        plan_cache_size: int = 1024,
        limits: Limits | None = None,
        *,
        deduplicate: bool = False,
        authorization: AuthorizationConfig | None = None,
    ) -> None:
        self.supergraph = supergraph
        self.authorization = Authorization(supergraph.access, authorization)
        self.limits = limits or Limits()
        self.deduplicate = deduplicate
        self._in_flight: dict[
            tuple[str, str | None, bytes, str | None], asyncio.Future[GraphQLResponse]
        ] = {}
        self.transport = transport
        self.documents: LRU[str, DocumentNode | GraphQLResponse] = LRU(document_cache_size)
        self.prepared: LRU[tuple[str, str | None], PreparedOperation | GraphQLResponse] = LRU(
            plan_cache_size
        )
        self.abstract_types = frozenset(
            name for name, info in supergraph.types.items() if info.kind in ("interface", "union")
        )

    def document(self, query: str) -> DocumentNode | GraphQLResponse:
        cached = self.documents.get(query)
        if cached is not None:
            return cached
        result: DocumentNode | GraphQLResponse
        if len(query.encode()) > MAX_QUERY_BYTES:
            result = _failure(413, "the query is too large", "QUERY_TOO_LARGE")
        else:
            try:
                document = parse(query, max_tokens=MAX_TOKENS, allow_empty_selection_sets=False)
            except GraphQLError as parse_error:
                result = _errors([parse_error], "GRAPHQL_PARSE_FAILED")
            else:
                problems = validate(self.supergraph.api_schema, document) or check_limits(
                    document, self.limits
                )
                result = _errors(problems, "GRAPHQL_VALIDATION_FAILED") if problems else document
        self.documents.put(query, result)
        return result

    def prepare(
        self, query: str, operation_name: str | None
    ) -> PreparedOperation | GraphQLResponse:
        key = (query, operation_name)
        cached = self.prepared.get(key)
        if cached is not None:
            return cached
        result: PreparedOperation | GraphQLResponse
        document = self.document(query)
        if isinstance(document, GraphQLResponse):
            return document
        try:
            operation = select_operation(document, operation_name)
        except PlanningError as selection_error:
            result = _failure(400, str(selection_error), "BAD_REQUEST")
        else:
            try:
                query_plan = plan(self.supergraph, document, operation_name)
            except PlanningError as planning_error:
                result = _failure(500, str(planning_error), "QUERY_PLANNING_FAILED")
            else:
                guards = find_guards(
                    self.supergraph.api_schema, self.supergraph.access, document, operation
                )
                result = PreparedOperation.create(document, operation, query_plan, guards=guards)
        self.prepared.put(key, result)
        return result

    def authorize(
        self, prepared: PreparedOperation, operation_name: str | None, caller: Caller | None
    ) -> PreparedOperation | GraphQLResponse:
        """The operation as this caller may run it: what they may not read is planned away
        (and answered null with an error), or, with ``reject_unauthorized``, refused."""
        if not prepared.guards:
            return prepared
        authorization = self.authorization
        verdict = authorization.verdict(prepared.guards, caller)
        if not verdict:
            return prepared
        if authorization.config.reject_unauthorized:
            errors = authorization.errors(prepared.guards, verdict)
            return GraphQLResponse(200, {"data": None, "errors": errors})
        variant = prepared.variants.get(verdict)
        if variant is None:
            refused = [prepared.guards[index].node for index, _ in verdict]
            try:
                query_plan = plan(
                    self.supergraph, without(prepared.document, refused), operation_name
                )
            except PlanningError as planning_error:
                return _failure(500, str(planning_error), "QUERY_PLANNING_FAILED")
            variant = PreparedOperation.create(
                prepared.document,
                prepared.operation,
                query_plan,
                refused=authorization.refusals(prepared.guards, verdict),
            )
            prepared.remember_variant(verdict, variant)
        return variant

    def admit(
        self, request: GraphQLRequest, caller: Caller | None = None
    ) -> tuple[PreparedOperation, VariableValues] | GraphQLResponse:
        """The request's operation ready to run with its variables, or why it cannot run."""
        prepared = self.prepare(request.query, request.operation_name)
        if isinstance(prepared, GraphQLResponse):
            return prepared
        prepared = self.authorize(prepared, request.operation_name, caller)
        if isinstance(prepared, GraphQLResponse):
            return prepared
        variables = self._coerce_variables(prepared.operation, request.variables)
        if isinstance(variables, GraphQLResponse):
            return variables
        return prepared, variables

    async def execute(
        self, request: GraphQLRequest, caller: Caller | None = None
    ) -> GraphQLResponse:
        """A query or mutation (a subscription is refused: they are served over WebSocket)."""
        prepared = self.prepare(request.query, request.operation_name)
        if isinstance(prepared, GraphQLResponse):
            return prepared
        kind = prepared.plan.operation_kind
        if kind == "subscription":
            return _failure(
                400,
                "subscriptions are served over WebSocket (graphql-transport-ws) at this path",
                "BAD_REQUEST",
            )
        if request.method == "GET" and kind != "query":
            response = _failure(405, f"{kind}s are not allowed over GET", "METHOD_NOT_ALLOWED")
            return GraphQLResponse(405, response.body, allow="POST")
        admitted = self.admit(request, caller)
        if isinstance(admitted, GraphQLResponse):
            return admitted
        prepared, variables = admitted
        forwarded = {
            name: value
            for name, value in (request.headers or {}).items()
            if name in FORWARDED_HEADERS
        }
        # Files are not JSON (no key to share them by); uploads are never deduplicated.
        if not self.deduplicate or kind != "query" or request.uploads:
            return await self._run(prepared, request, variables, forwarded)
        # Identical queries in flight with the same credentials share one execution.
        key = (
            request.query,
            request.operation_name,
            jsonio.dumps_sorted(request.variables or {}),
            forwarded.get("authorization"),
        )
        shared = self._in_flight.get(key)
        if shared is None:
            shared = asyncio.ensure_future(self._run(prepared, request, variables, forwarded))
            self._in_flight[key] = shared
            shared.add_done_callback(lambda _: self._in_flight.pop(key, None))
        return await asyncio.shield(shared)

    async def _run(
        self,
        prepared: PreparedOperation,
        request: GraphQLRequest,
        variables: VariableValues,
        forwarded: dict[str, str],
    ) -> GraphQLResponse:
        state = ExecutionState(
            self.transport,
            request.variables or {},
            forwarded,
            self.abstract_types,
            uploads=request.uploads,
        )
        await execute_plan(prepared.plan, state)
        body = prepared.respond(
            self.supergraph.api_schema,
            state.data,
            state.errors,
            variables,
            request.variables or {},
            self.abstract_types,
        )
        return GraphQLResponse(200, body)

    def _coerce_variables(
        self, operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
    ) -> VariableValues | GraphQLResponse:
        if not operation.variable_definitions:
            return _NO_VARIABLES
        coerced = get_variable_values(
            self.supergraph.api_schema, operation.variable_definitions or (), dict(variables or {})
        )
        if isinstance(coerced, list):
            return _errors(coerced, "BAD_USER_INPUT")
        return coerced
