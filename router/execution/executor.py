"""Running a query plan: fetches in order, results merged into one tree."""

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.trace import SpanKind

from router import jsonio, telemetry
from router.cache.entity_cache import RequestCache, digest
from router.cache.policy import answer_policy
from router.cache.tags import representation_tags
from router.config.entity_cache import SubgraphCache
from router.errors import error
from router.execution.contexts import ContextBatches, context_values, contextual_request, unbatch
from router.execution.errors import subgraph_error
from router.execution.failures import entity_paths, failed_fetch_errors, root_paths
from router.execution.merge import (
    Path,
    PathLink,
    deep_merge,
    linked_objects_at,
    merge_into,
    objects_at,
    path_of,
    paths_of,
    rescoped,
    sees_error,
    unalias,
)
from router.execution.representations import Grouped, dedupe_key, grouped, input_for, representation
from router.planning.nodes import (
    ConditionNode,
    EntityInput,
    FetchNode,
    FlattenNode,
    ParallelNode,
    PlanNode,
    QueryPlan,
    SequenceNode,
)
from router.planning.selection import ALIAS_MARKER
from router.transport.base import SubgraphRequestError, Transport
from router.transport.headers import with_trace_context
from router.transport.multipart import contains_uploads


@dataclass
class ExecutionState:
    transport: Transport
    variables: Mapping[str, Any]
    headers: Mapping[str, str]
    abstract_types: frozenset[str]
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    # The client sent files (a multipart request): only then are fetch variables searched
    # for them, so that JSON requests never pay for it.
    uploads: bool = False
    # The coerced values (defaults applied) the plan's @skip/@include conditions read.
    conditions: Mapping[str, Any] = field(default_factory=dict)
    # The request's trace is recorded: each fetch gets a span of its own (decided once).
    traced: bool = False
    # The entity cache (`preview_entity_cache`), None when it is off: then nothing of it is
    # looked at on a fetch.
    cache: RequestCache | None = None


def _variables(node: FetchNode, state: ExecutionState) -> dict[str, Any]:
    return {name: state.variables[name] for name in node.variable_usages if name in state.variables}


def _call(
    node: FetchNode,
    state: ExecutionState,
    payload: dict[str, Any],
    variables: dict[str, Any],
    headers: Mapping[str, str],
) -> Awaitable[dict[str, Any]]:
    """The transport's awaitable itself (no coroutine of its own: one frame less per
    fetch)."""
    if state.uploads and any(contains_uploads(variables.get(n)) for n in node.variable_usages):
        return state.transport.send_multipart(node.service, payload, headers)
    idempotent = node.operation_kind == "query"  # a mutation is never sent twice
    return state.transport.send(node.service, payload, headers, idempotent=idempotent)


async def _traced_call(
    node: FetchNode, state: ExecutionState, payload: dict[str, Any], variables: dict[str, Any]
) -> dict[str, Any]:
    """`_call` in a client span of its own, whose context the subgraph request carries."""
    entities = variables.get("representations")
    with telemetry.TRACER.start_as_current_span(
        f"fetch {node.service}",
        kind=SpanKind.CLIENT,
        attributes={
            "graphql.subgraph": node.service,
            "graphql.operation.type": node.operation_kind,
            "graphql.entities": len(entities) if isinstance(entities, list) else 0,
        },
    ) as span:
        headers = with_trace_context(state.headers, telemetry.trace_context())
        try:
            response = await _call(node, state, payload, variables, headers)
        except SubgraphRequestError as failure:
            telemetry.failed(span, failure.code)
            raise
        if response.get("errors"):
            telemetry.failed(span, "the subgraph answered errors")
        return response


async def _send(
    node: FetchNode,
    state: ExecutionState,
    variables: dict[str, Any],
    affected: Callable[[], tuple[Iterable[Path], list[Path]]],
    operation: str | None = None,
    flight: str | None = None,
) -> dict[str, Any] | None:
    """The subgraph's response, or None when the fetch failed: then an error on each path
    `affected` gives (with the objects the fetch would have extended). With the cache on,
    concurrent fetches of one `flight` share one request."""
    payload: dict[str, Any] = {"query": operation or node.operation}
    if variables:
        payload["variables"] = variables

    def call() -> Awaitable[dict[str, Any]]:
        if state.traced:
            return _traced_call(node, state, payload, variables)
        return _call(node, state, payload, variables, state.headers)

    try:
        if state.cache is None:
            response = await call()
        else:
            response = await (call() if flight is None else state.cache.cache.once(flight, call))
            state.cache.note(response)
    except SubgraphRequestError as failure:
        if state.cache is not None:
            state.cache.policies.append(None)
        paths, owners = affected()
        state.errors.extend(
            failed_fetch_errors(failure.message, failure.code, node.service, paths, owners)
        )
        return None
    if node.is_entity_fetch and node.has_aliases and isinstance(response.get("data"), dict):
        response["data"] = unalias(response["data"], ALIAS_MARKER, state.abstract_types)
    return response


async def _fetch_root(node: FetchNode, state: ExecutionState) -> None:
    variables = _variables(node, state)
    cache = state.cache
    settings = None
    if cache is not None and node.operation_kind == "query":
        settings = cache.cache.subgraph(node.service)
    if cache is None or settings is None:
        response = await _send(node, state, variables, lambda: (root_paths(node), []))
    else:
        response = await _cached_root(node, state, variables, cache, settings)
    if response is not None:
        merge_root_response(node, response, state)


async def _cached_root(
    node: FetchNode,
    state: ExecutionState,
    variables: dict[str, Any],
    cache: RequestCache,
    settings: SubgraphCache,
) -> dict[str, Any] | None:
    """A root fetch's answer from the cache, or from the subgraph (then kept)."""
    key = "r:" + digest(node.service, node.operation, jsonio.dumps_sorted(variables))
    [hit] = await cache.lookup([key], root=True)
    if hit is not None:
        return {"data": hit.value}
    response = await _send(
        node, state, variables, lambda: (root_paths(node), []), flight=cache.flight(key)
    )
    data = None if response is None else response.get("data")
    if response is not None and isinstance(data, dict):
        tags = cache.answer_tags.of(data, node.operation)
        await cache.keep([(key, data, tags)], answer_policy(response), settings, root=True)
    return response


def merge_root_response(node: FetchNode, response: dict[str, Any], state: ExecutionState) -> None:
    """Take a root fetch's result (a response, or one event of a subscription) into the tree."""
    if node.has_aliases and isinstance(response.get("data"), dict):
        response["data"] = unalias(response["data"], ALIAS_MARKER, state.abstract_types)
    data = response.get("data")
    if isinstance(data, dict):
        deep_merge(state.data, data, state.abstract_types)
    for raw in response.get("errors") or ():
        path = raw.get("path") if isinstance(raw, dict) else None
        state.errors.append(subgraph_error(raw, node.service, path))


def _entity_error_paths(
    raw: Any,
    owners: list[list[Path | None]],
    targets: list[list[dict[str, Any]]],
    fetch: FetchNode,
) -> list[list[str | int]] | None:
    path = raw.get("path") if isinstance(raw, dict) else None
    if not isinstance(path, list) or len(path) < 2 or path[0] != "_entities":
        return None
    index = path[1]
    if not isinstance(index, int) or not 0 <= index < len(owners):
        return None
    return [
        [*owner, *path[2:]]
        for owner, obj in zip(owners[index], targets[index], strict=True)
        if owner is not None
        and (not fetch.scoped or sees_error(path[2:], obj.get("__typename"), fetch.scoped))
    ]


def _no_context_value(fetch: FetchNode, path: Path) -> dict[str, Any]:
    names = ", ".join(f"${c.name}" for c in fetch.contexts)
    return {
        **error(
            f"no value for a non-null contextual argument ({names}): no enclosing object "
            "sets its context",
            "CONTEXT_VALUE_MISSING",
            serviceName=fetch.service,
        ),
        "path": path,
    }


def _contextual_groups(
    fetch: FetchNode,
    state: ExecutionState,
    walked: list[dict[str, Any]],
    links: list[PathLink],
    context_sets: list[tuple[Any, ...]],
) -> Grouped:
    """`grouped` for a fetch with contextual arguments: objects share a representation only
    with the same context values (each new set of them appended to `context_sets`); an
    object without them gets an error instead."""
    representations: list[dict[str, Any]] = []
    targets: list[list[dict[str, Any]]] = []
    owners: list[list[int]] = []
    seen: dict[Any, int] = {}
    inputs: dict[Any, EntityInput | None] = {}  # by __typename
    for position, obj in enumerate(walked):
        typename = obj.get("__typename")
        try:
            entity_input = inputs[typename]
        except KeyError:
            entity_input = inputs[typename] = input_for(fetch.inputs, typename)
        except TypeError:  # not a name: no input takes it
            continue
        if entity_input is None:
            continue
        rep = representation(obj, entity_input)
        if rep is None:
            continue
        path = path_of(links[position])
        values = context_values(state.data, path, fetch.contexts)
        if values is None:
            state.errors.append(_no_context_value(fetch, path))
            continue
        key = (dedupe_key(rep), jsonio.dumps_sorted(list(values)))
        index = seen.get(key)
        if index is None:
            context_sets.append(values)
            index = seen[key] = len(representations)
            representations.append(rep)
            targets.append([])
            owners.append([])
        targets[index].append(obj)
        owners[index].append(position)
    return representations, targets, owners


async def _fetch_entities(node: FlattenNode, state: ExecutionState) -> None:
    fetch = node.node
    if fetch.contexts:  # each object's path is needed for its context values
        linked = linked_objects_at(state.data, node.path)
        walked = [obj for obj, _ in linked]
        links = [link for _, link in linked]
        context_sets: list[tuple[Any, ...]] = []
        groups = _contextual_groups(fetch, state, walked, links, context_sets)
        await _fetch_grouped(fetch, node.path, state, walked, groups, links, context_sets)
        return
    # Per representation, its objects and their positions in `walked`: their paths are
    # found (`owner_paths`) only for an error.
    walked = objects_at(state.data, node.path)
    groups = grouped(walked, fetch.inputs)
    fallback = fetch.fallback
    left = [] if fallback is None else _left_out(walked, groups[2])
    await _fetch_grouped(fetch, node.path, state, walked, groups, None, [])
    if fallback is not None and left:
        await _fetch_grouped(
            fallback, node.path, state, left, grouped(left, fallback.inputs), None, []
        )


def _left_out(walked: list[dict[str, Any]], owners: list[list[int]]) -> list[dict[str, Any]]:
    """The objects `walked` that no representation holds (by their positions in `owners`)."""
    if sum(len(at) for at in owners) == len(walked):
        return []
    held = {position for at in owners for position in at}
    return [obj for position, obj in enumerate(walked) if position not in held]


async def _fetch_grouped(
    fetch: FetchNode,
    at: tuple[str, ...],
    state: ExecutionState,
    walked: list[dict[str, Any]],
    groups: Grouped,
    walked_links: list[PathLink] | None,
    context_sets: list[tuple[Any, ...]],
) -> None:
    """The entity fetch of the objects `walked` at the path `at`, as `groups` holds them by
    representation (with their context values, `context_sets`, and their links, for a
    fetch with contextual arguments), its answer merged into them."""
    representations, targets, owners = groups
    if not representations:
        return
    variables = _variables(fetch, state)
    cache = state.cache
    settings = None if cache is None or fetch.contexts else cache.cache.subgraph(fetch.service)
    kept: list[str | None] = []
    if cache is not None and settings is not None:
        selection = digest(fetch.operation, jsonio.dumps_sorted(variables))
        kept = await _entities_from_cache(fetch, state, cache, selection, representations, targets)
        missed = [i for i, key in enumerate(kept) if key != ""]
        if not missed:
            return
        if len(missed) < len(representations):
            representations = [representations[i] for i in missed]
            targets = [targets[i] for i in missed]
            owners = [owners[i] for i in missed]
            kept = [kept[i] for i in missed]
    batches = ContextBatches(None, [])
    if fetch.contexts:
        batches = contextual_request(fetch, representations, context_sets, variables)
    else:
        variables["representations"] = representations

    def owner_paths() -> list[list[Path | None]]:
        """Per representation, the response paths of its objects (None: one the tree
        lost)."""
        if walked_links is None:
            found = paths_of(state.data, at, walked)
        else:
            found = [path_of(link) for link in walked_links]
        return [[found[position] for position in at] for at in owners]

    def affected() -> tuple[Iterable[Path], list[Path]]:
        owned = owner_paths()
        paths = (
            path
            for rep, objects, at in zip(representations, targets, owned, strict=True)
            for path in entity_paths(
                fetch,
                rep["__typename"],
                ((obj, p) for obj, p in zip(objects, at, strict=True) if p is not None),
            )
        )
        return paths, [owner for at in owned for owner in at if owner is not None]

    flight = None
    if cache is not None and settings is not None:
        flight = cache.flight("e:" + digest(fetch.operation, jsonio.dumps_sorted(variables)))
    response = await _send(fetch, state, variables, affected, batches.operation, flight)
    if response is None:
        return
    response = unbatch(response, batches, len(representations))
    data = response.get("data")
    entities = data.get("_entities") if isinstance(data, dict) else None
    if isinstance(entities, list) and len(entities) == len(representations):
        if cache is not None and settings is not None and not response.get("errors"):
            fresh = [
                (key, entity, representation_tags(rep))
                for key, entity, rep in zip(kept, entities, representations, strict=True)
                if key and isinstance(entity, dict)
            ]
            await cache.keep(fresh, answer_policy(response), settings)
        for index, entity in enumerate(entities):
            if isinstance(entity, dict):
                _merge_entity(fetch, entity, targets[index], state)
    elif entities is not None:
        count = len(entities) if isinstance(entities, list) else "no"
        state.errors.append(
            error(
                f"subgraph {fetch.service!r} returned {count} entities "
                f"for {len(representations)} representations",
                "SUBGRAPH_INVALID_RESPONSE",
                serviceName=fetch.service,
            )
        )
    owned: list[list[Path | None]] | None = None
    for raw in response.get("errors") or ():
        if owned is None:
            owned = owner_paths()
        paths = _entity_error_paths(raw, owned, targets, fetch)
        if paths is None:
            state.errors.append(subgraph_error(raw, fetch.service, None))
        else:
            state.errors.extend(subgraph_error(raw, fetch.service, p) for p in paths)


def _merge_entity(
    fetch: FetchNode, entity: dict[str, Any], objects: list[dict[str, Any]], state: ExecutionState
) -> None:
    if not fetch.scoped:
        merge_into(objects, entity, state.abstract_types)
        return
    for obj in objects:
        seen_as = rescoped(entity, obj.get("__typename"), fetch.scoped)
        deep_merge(obj, seen_as, state.abstract_types)


async def _entities_from_cache(
    fetch: FetchNode,
    state: ExecutionState,
    cache: RequestCache,
    selection: str,
    representations: list[dict[str, Any]],
    targets: list[list[dict[str, Any]]],
) -> list[str | None]:
    """Merges the entities the cache holds; per representation, "" where it did, else the
    key to keep the subgraph's answer under (None for a type not cached)."""
    keys: list[str | None] = []
    for rep in representations:
        typename = str(rep["__typename"])
        cached = cache.cache.caches_type(typename)
        keys.append(
            f"e:{typename}:{digest(jsonio.dumps_sorted(rep))}:{selection}" if cached else None
        )
    asked = [key for key in keys if key is not None]
    if not asked:
        return keys
    hits = iter(await cache.lookup(asked))
    for index, key in enumerate(keys):
        if key is None:
            continue
        hit = next(hits)
        if hit is not None and isinstance(hit.value, dict):
            _merge_entity(fetch, hit.value, targets[index], state)
            keys[index] = ""
    return keys


def run_node(node: PlanNode, state: ExecutionState) -> Coroutine[Any, Any, None]:
    """The node's coroutine itself, not awaited in one of this function's: a fetch's
    chain of frames, which every resumption of it passes through, is one frame shorter
    for each level of the plan above it."""
    if isinstance(node, FetchNode):
        return _fetch_root(node, state)
    if isinstance(node, FlattenNode):
        return _fetch_entities(node, state)
    if isinstance(node, SequenceNode):
        return _sequence(node.nodes, state)
    if isinstance(node, ParallelNode):
        return _parallel(node.nodes, state)
    if isinstance(node, ConditionNode):
        branch = node.if_clause if state.conditions.get(node.condition) else node.else_clause
        if branch is not None:
            return run_node(branch, state)
    return _nothing()


async def _nothing() -> None:
    pass


async def _sequence(nodes: tuple[PlanNode, ...], state: ExecutionState) -> None:
    for child in nodes:
        await run_node(child, state)


async def _parallel(nodes: tuple[PlanNode, ...], state: ExecutionState) -> None:
    """The first child runs in this coroutine, each other one in a task of its own, started
    before it (so that the context each task copies is the parent's), then awaited in
    turn: one task fewer per parallel node than `asyncio.gather`, and none of its gathering
    future and callbacks. When one fails or this is cancelled, the others are cancelled."""
    if len(nodes) == 1:
        await run_node(nodes[0], state)
        return
    create_task = asyncio.get_running_loop().create_task
    others = [create_task(run_node(child, state)) for child in nodes[1:]]
    try:
        await run_node(nodes[0], state)
        for task in others:
            await task
    except BaseException:
        for task in others:
            if not task.cancel() and not task.cancelled():
                task.exception()  # read, so that a failure of another is not reported unread
        raise


async def execute_plan(plan: QueryPlan, state: ExecutionState) -> ExecutionState:
    if plan.node is not None:
        await run_node(plan.node, state)
    return state
