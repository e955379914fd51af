"""Running a query plan: fetches in order, results merged into one tree."""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from router import jsonio
from router.execution.errors import error, subgraph_error
from router.execution.merge import Path, deep_merge, objects_at, unalias
from router.execution.representations import representation
from router.planning.nodes import (
    FetchNode,
    FlattenNode,
    ParallelNode,
    PlanNode,
    QueryPlan,
    SequenceNode,
)
from router.planning.selection import ALIAS_MARKER
from router.transport.base import SubgraphRequestError, Transport
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


def _variables(node: FetchNode, state: ExecutionState) -> dict[str, Any]:
    return {name: state.variables[name] for name in node.variable_usages if name in state.variables}


async def _send(
    node: FetchNode, state: ExecutionState, variables: dict[str, Any]
) -> dict[str, Any] | None:
    payload: dict[str, Any] = {"query": node.operation}
    if variables:
        payload["variables"] = variables
    try:
        if state.uploads and any(contains_uploads(variables.get(n)) for n in node.variable_usages):
            response = await state.transport.send_multipart(node.service, payload, state.headers)
        else:
            idempotent = node.operation_kind == "query"  # a mutation is never sent twice
            response = await state.transport.send(
                node.service, payload, state.headers, idempotent=idempotent
            )
    except SubgraphRequestError as failure:
        state.errors.append(error(failure.message, failure.code, serviceName=node.service))
        return None
    if node.is_entity_fetch and node.has_aliases and isinstance(response.get("data"), dict):
        response["data"] = unalias(response["data"], ALIAS_MARKER, state.abstract_types)
    return response


async def _fetch_root(node: FetchNode, state: ExecutionState) -> None:
    response = await _send(node, state, _variables(node, state))
    if response is not None:
        merge_root_response(node, response, state)


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


def _entity_error_paths(raw: Any, owners: list[list[Path]]) -> list[list[str | int]] | None:
    path = raw.get("path") if isinstance(raw, dict) else None
    if not isinstance(path, list) or len(path) < 2 or path[0] != "_entities":
        return None
    index = path[1]
    if not isinstance(index, int) or not 0 <= index < len(owners):
        return None
    return [[*owner, *path[2:]] for owner in owners[index]]


def _dedupe_key(rep: dict[str, Any]) -> Any:
    items = tuple(rep.items())
    try:
        hash(items)
    except TypeError:
        return jsonio.dumps_sorted(rep)
    return items


async def _fetch_entities(node: FlattenNode, state: ExecutionState) -> None:
    fetch = node.node
    representations: list[dict[str, Any]] = []
    targets: list[list[dict[str, Any]]] = []
    owners: list[list[Path]] = []
    seen: dict[Any, int] = {}
    for obj, path in objects_at(state.data, node.path):
        typename = obj.get("__typename")
        entity_input = next(
            (i for i in fetch.inputs if typename is None or typename in i.typenames), None
        )
        if entity_input is None:
            continue
        rep = representation(obj, entity_input)
        if rep is None:
            continue
        key = _dedupe_key(rep)
        index = seen.get(key)
        if index is None:
            index = seen[key] = len(representations)
            representations.append(rep)
            targets.append([])
            owners.append([])
        targets[index].append(obj)
        owners[index].append(path)
    if not representations:
        return
    variables = _variables(fetch, state)
    variables["representations"] = representations
    response = await _send(fetch, state, variables)
    if response is None:
        return
    data = response.get("data")
    entities = data.get("_entities") if isinstance(data, dict) else None
    if isinstance(entities, list) and len(entities) == len(representations):
        for index, entity in enumerate(entities):
            if isinstance(entity, dict):
                for obj in targets[index]:
                    deep_merge(obj, entity, state.abstract_types)
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
    for raw in response.get("errors") or ():
        paths = _entity_error_paths(raw, owners)
        if paths is None:
            state.errors.append(subgraph_error(raw, fetch.service, None))
        else:
            state.errors.extend(subgraph_error(raw, fetch.service, p) for p in paths)


async def run_node(node: PlanNode, state: ExecutionState) -> None:
    if isinstance(node, FetchNode):
        await _fetch_root(node, state)
    elif isinstance(node, FlattenNode):
        await _fetch_entities(node, state)
    elif isinstance(node, SequenceNode):
        for child in node.nodes:
            await run_node(child, state)
    elif isinstance(node, ParallelNode):
        await asyncio.gather(*(run_node(child, state) for child in node.nodes))


async def execute_plan(plan: QueryPlan, state: ExecutionState) -> ExecutionState:
    if plan.node is not None:
        await run_node(plan.node, state)
    return state
