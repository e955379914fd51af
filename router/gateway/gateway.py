"""The request pipeline: parse → validate → plan → execute → shape, with caches."""

import asyncio
import contextvars
import dataclasses
import random
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    parse,
)
from graphql.execution.values import VariableValues, get_variable_values
from prometheus_client import Counter

from router import jsonio, telemetry
from router.cache.entity_cache import EntityCache, RequestCache
from router.cache.policy import NO_STORE, response_headers
from router.cache.tags import AnswerTags
from router.config.headers import HeadersSection
from router.errors import error
from router.execution import ExecutionState, execute_plan
from router.execution.prepared import PreparedOperation
from router.gateway.demand import DemandControl, DemandPolicy, Measured
from router.gateway.limits import Limits, check_limits
from router.gateway.validation import validate_operation
from router.lru import LRU
from router.metrics import REGISTRY
from router.planning import PlanningError, plan
from router.planning.plan import select_operation
from router.policies.authentication import Caller
from router.policies.authorization import (
    Authorization,
    AuthorizationConfig,
    find_guards,
    without,
)
from router.supergraph.model import Supergraph
from router.transport.base import Transport
from router.transport.headers import ForwardedHeaders, HeaderRules, with_trace_context

MAX_QUERY_BYTES = 256 * 1024
MAX_TOKENS = 15_000
# Documents this long are compiled (parsed, validated, planned) on a worker thread: at worst
# (validation is quadratic in fields sharing a response name) that takes a second or two, and
# the event loop keeps serving meanwhile. Shorter ones take well under a millisecond.
OFF_LOOP_QUERY_CHARS = 2048
# One thread: costly documents queue behind each other, not in front of everything else.
_COMPILER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="router-compile")

PLAN_CACHE = Counter(
    "router_query_plan_cache_total",
    "Look-ups of an operation's plan in the plan cache, by result (hit or miss)",
    ["result"],
    registry=REGISTRY,
)
PLAN_CACHE_HIT = PLAN_CACHE.labels("hit")
PLAN_CACHE_MISS = PLAN_CACHE.labels("miss")


_NO_VARIABLES = VariableValues(sources={}, coerced={})
# query, operation name, variables, the headers subgraphs would get, override labels
DedupKey = tuple[str, str | None, bytes, frozenset[tuple[str, str, str]], frozenset[str]]
PlanKey = tuple[str, str | None, frozenset[str]]  # query, operation name, override labels


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: Mapping[str, Any] | None = None
    operation_name: str | None = None
    # the client's headers (lower-case names), with the router's x-forwarded-for and the
    # verified authorization; `headers:` rules choose which of them subgraphs get
    headers: Mapping[str, str] | None = None
    method: str = "POST"
    uploads: bool = False  # a multipart request: variables may hold `UploadedFile`s
    # a persisted query's id (`extensions.persistedQuery.sha256Hash`), until it is resolved
    persisted: str | None = None


@dataclass(frozen=True)
class GraphQLResponse:
    status: int
    body: dict[str, Any]
    allow: str | None = None
    headers: Mapping[str, str] | None = None  # more for the HTTP answer (a challenge, Retry-After)


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
        override_labels: frozenset[str] = frozenset(),
        rng: random.Random | None = None,
        demand: DemandPolicy | None = None,
        header_rules: HeaderRules | None = None,
        entity_cache: EntityCache | None = None,
    ) -> None:
        self.supergraph = supergraph
        self.entity_cache = entity_cache
        self.answer_tags = AnswerTags(supergraph) if entity_cache is not None else None
        # progressive @override labels enabled by configuration; `percent(N)` ones are drawn
        self.override_labels = override_labels
        self._rng = rng or random.Random()  # noqa: S311 (a traffic split, not a secret)
        self.authorization = Authorization(supergraph.access, authorization)
        self.limits = limits or Limits()
        self.deduplicate = deduplicate
        self.header_rules = header_rules or HeaderRules(HeadersSection())
        self._in_flight: dict[DedupKey, asyncio.Future[GraphQLResponse]] = {}
        self.transport = transport
        self.documents: LRU[str, DocumentNode | GraphQLResponse] = LRU(document_cache_size)
        self.prepared: LRU[PlanKey, PreparedOperation | GraphQLResponse] = LRU(plan_cache_size)
        self.demand = (
            None
            if demand is None
            else DemandControl(demand, supergraph.api_schema, supergraph.costs, plan_cache_size)
        )
        self.abstract_types = frozenset(
            name for name, info in supergraph.types.items() if info.kind in ("interface", "union")
        )

    def document(self, query: str) -> DocumentNode | GraphQLResponse:
        cached = self.documents.get(query)
        if cached is None:
            cached = self._compile_document(query)
            self.documents.put(query, cached)
        return cached

    def draw_labels(self) -> frozenset[str]:
        """The progressive override labels one request runs with."""
        return self.supergraph.draw_labels(self.override_labels, self._rng)

    def prepare(
        self, query: str, operation_name: str | None, labels: frozenset[str] = frozenset()
    ) -> PreparedOperation | GraphQLResponse:
        key = (query, operation_name, labels)
        cached = self.prepared.get(key)
        if cached is None:
            document = self.document(query)
            if isinstance(document, GraphQLResponse):
                return document
            cached = self._compile(document, operation_name, labels)
            self.prepared.put(key, cached)
        return cached

    async def ready(
        self, query: str, operation_name: str | None, labels: frozenset[str] = frozenset()
    ) -> PreparedOperation | GraphQLResponse:
        """`prepare`, with a large document parsed, validated and planned off the event
        loop, so that one costly document never holds up the requests around it."""
        key = (query, operation_name, labels)
        cached = self.prepared.get(key)
        if cached is not None:
            PLAN_CACHE_HIT.inc()
            return cached
        PLAN_CACHE_MISS.inc()
        if len(query) < OFF_LOOP_QUERY_CHARS:
            return self.prepare(query, operation_name, labels)
        document = self.documents.get(query)
        compiled = await asyncio.get_running_loop().run_in_executor(
            _COMPILER,
            contextvars.copy_context().run,  # its spans are the request's
            self._compile_all,
            query,
            operation_name,
            labels,
            document,
        )
        document, prepared = compiled
        self.documents.put(query, document)  # the caches are only touched on the loop
        if isinstance(document, GraphQLResponse):
            return document
        assert prepared is not None
        self.prepared.put(key, prepared)
        return prepared

    def _compile_all(
        self,
        query: str,
        operation_name: str | None,
        labels: frozenset[str],
        document: DocumentNode | GraphQLResponse | None,
    ) -> tuple[DocumentNode | GraphQLResponse, PreparedOperation | GraphQLResponse | None]:
        if document is None:
            document = self._compile_document(query)
        if isinstance(document, GraphQLResponse):
            return document, None
        return document, self._compile(document, operation_name, labels)

    def _compile_document(self, query: str) -> DocumentNode | GraphQLResponse:
        with telemetry.span("parse_validate") as span:
            document = self._parse_and_validate(query)
            if span is not None and isinstance(document, GraphQLResponse):
                telemetry.failed(span, "the document was refused")
            return document

    def _parse_and_validate(self, query: str) -> DocumentNode | GraphQLResponse:
        if len(query.encode()) > MAX_QUERY_BYTES:
            return _failure(413, "the query is too large", "QUERY_TOO_LARGE")
        try:
            document = parse(query, max_tokens=MAX_TOKENS, allow_empty_selection_sets=False)
        except GraphQLError as parse_error:
            return _errors([parse_error], "GRAPHQL_PARSE_FAILED")
        problems = validate_operation(
            self.supergraph.api_schema, document, self.limits.max_validation_work
        ) or check_limits(document, self.limits)
        return _errors(problems, "GRAPHQL_VALIDATION_FAILED") if problems else document

    def _compile(
        self, document: DocumentNode, operation_name: str | None, labels: frozenset[str]
    ) -> PreparedOperation | GraphQLResponse:
        with telemetry.span("query_planning"):
            return self._plan(document, operation_name, labels)

    def _plan(
        self, document: DocumentNode, operation_name: str | None, labels: frozenset[str]
    ) -> PreparedOperation | GraphQLResponse:
        try:
            operation = select_operation(document, operation_name)
        except PlanningError as selection_error:
            return _failure(400, str(selection_error), "BAD_REQUEST")
        try:
            query_plan = plan(self.supergraph, document, operation_name, labels=labels)
        except PlanningError as planning_error:
            return _failure(500, str(planning_error), "QUERY_PLANNING_FAILED")
        guards = find_guards(
            self.supergraph.api_schema, self.supergraph.access, document, operation
        )
        return PreparedOperation.create(
            document, operation, query_plan, guards=guards, labels=labels
        )

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
                    self.supergraph,
                    without(prepared.document, refused),
                    operation_name,
                    labels=prepared.labels,
                )
            except PlanningError as planning_error:
                return _failure(500, str(planning_error), "QUERY_PLANNING_FAILED")
            variant = PreparedOperation.create(
                prepared.document,
                prepared.operation,
                query_plan,
                refused=authorization.refusals(prepared.guards, verdict),
                labels=prepared.labels,
            )
            prepared.remember_variant(verdict, variant)
        return variant

    async def admit(
        self,
        request: GraphQLRequest,
        caller: Caller | None = None,
        labels: frozenset[str] | None = None,
    ) -> tuple[PreparedOperation, VariableValues] | GraphQLResponse:
        """The request's operation ready to run with its variables, or why it cannot run."""
        if labels is None:
            labels = self.draw_labels()
        prepared = await self.ready(request.query, request.operation_name, labels)
        if isinstance(prepared, GraphQLResponse):
            return prepared
        return self._admit(prepared, request, caller)

    def _admit(
        self, planned: PreparedOperation, request: GraphQLRequest, caller: Caller | None
    ) -> tuple[PreparedOperation, VariableValues] | GraphQLResponse:
        prepared = self.authorize(planned, request.operation_name, caller)
        if isinstance(prepared, GraphQLResponse):
            return prepared
        variables = self._coerce_variables(prepared.operation, request.variables)
        if isinstance(variables, GraphQLResponse):
            return variables
        return prepared, variables

    async def parsed(self, query: str) -> DocumentNode | GraphQLResponse:
        """`document`, with a large document parsed and validated off the event loop."""
        cached = self.documents.get(query)
        if cached is None:
            if len(query) < OFF_LOOP_QUERY_CHARS:
                return self.document(query)
            cached = await asyncio.get_running_loop().run_in_executor(
                _COMPILER, self._compile_document, query
            )
            self.documents.put(query, cached)
        return cached

    async def estimate(
        self, demand: DemandControl, request: GraphQLRequest
    ) -> Measured | GraphQLResponse | None:
        """Demand control, before planning: the request's estimated cost, or its refusal
        (None for a document that does not run: `ready` says why)."""
        document = await self.parsed(request.query)
        if isinstance(document, GraphQLResponse):
            return None
        try:
            operation = select_operation(document, request.operation_name)
        except PlanningError:
            return None
        variables = self._coerce_variables(operation, request.variables)
        if isinstance(variables, GraphQLResponse):
            return variables
        key = (request.query, request.operation_name)
        verdict = demand.check(key, document, operation, variables.coerced)
        if isinstance(verdict, Measured):
            return verdict
        refusal = error(verdict.message, verdict.code, **verdict.extensions)
        return GraphQLResponse(400, {"errors": [refusal]})

    async def execute(
        self, request: GraphQLRequest, caller: Caller | None = None
    ) -> GraphQLResponse:
        """A query or mutation (a subscription is refused: they are served over WebSocket)."""
        demand = self.demand
        if demand is None:
            response = await self._execute(request, caller)
        else:
            measured = await self.estimate(demand, request)
            if isinstance(measured, GraphQLResponse):
                response = measured
            else:
                response = await self._execute(request, caller)
                if measured is not None:
                    demand.measure(measured, response.body.get("data"))
        if self.entity_cache is not None and "cache-control" not in (response.headers or {}):
            # refused before it ran (invalid, unauthorized, too costly...)
            headers = {**(response.headers or {}), "cache-control": NO_STORE}
            response = dataclasses.replace(response, headers=headers)
        return response

    async def _execute(self, request: GraphQLRequest, caller: Caller | None) -> GraphQLResponse:
        labels = self.draw_labels()
        prepared = await self.ready(request.query, request.operation_name, labels)
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
        admitted = self._admit(prepared, request, caller)
        if isinstance(admitted, GraphQLResponse):
            return admitted
        prepared, variables = admitted
        forwarded = ForwardedHeaders(request.headers or {})
        # Files are not JSON (no key to share them by); uploads are never deduplicated.
        if not self.deduplicate or kind != "query" or request.uploads:
            return await self._run(prepared, request, variables, forwarded, caller)
        # Identical queries in flight whose subgraph requests would carry the same headers
        # (credentials and whatever `headers:` rules forward), with the same override
        # labels, share one execution.
        key: DedupKey = (
            request.query,
            request.operation_name,
            jsonio.dumps_sorted(request.variables or {}),
            self.header_rules.fingerprint(forwarded),
            prepared.labels,
        )
        shared = self._in_flight.get(key)
        if shared is None:
            shared = asyncio.ensure_future(
                self._run(prepared, request, variables, forwarded, caller)
            )
            self._in_flight[key] = shared
            shared.add_done_callback(lambda _: self._in_flight.pop(key, None))
        return await asyncio.shield(shared)

    async def _run(
        self,
        prepared: PreparedOperation,
        request: GraphQLRequest,
        variables: VariableValues,
        forwarded: Mapping[str, str],
        caller: Caller | None = None,
    ) -> GraphQLResponse:
        traced = telemetry.recording()
        if not traced and telemetry.active():
            # a trace the sampler dropped: the subgraphs are told so, once for every fetch
            forwarded = with_trace_context(forwarded, telemetry.trace_context())
        state = ExecutionState(
            self.transport,
            request.variables or {},
            forwarded,
            self.abstract_types,
            uploads=request.uploads,
            conditions=variables.coerced,
            traced=traced,
        )
        if self.entity_cache is not None and self.answer_tags is not None:
            subject = caller.subject if caller is not None else None
            state.cache = RequestCache(self.entity_cache, subject, self.answer_tags)
        with telemetry.span("execution", {"graphql.operation.type": prepared.plan.operation_kind}):
            await execute_plan(prepared.plan, state)
        body = prepared.respond(
            self.supergraph.api_schema,
            state.data,
            state.errors,
            variables,
            request.variables or {},
            self.abstract_types,
        )
        if state.cache is None:
            return GraphQLResponse(200, body)
        kind = prepared.plan.operation_kind
        personal = bool(prepared.guards) and caller is not None
        headers = response_headers(kind, body, state.cache.policies, personal)
        return GraphQLResponse(200, body, headers=headers)

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
