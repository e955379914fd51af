"""A subscription through the router: the primary fetch is a subscription at one subgraph
(over WebSocket); each event it sends is completed like a query's root fetch result, its
fields from other subgraphs fetched by the rest of the plan, and shaped for the client."""

from collections.abc import AsyncIterator, Mapping
from typing import Any

from graphql.execution.values import VariableValues

from router import telemetry
from router.execution import ExecutionState
from router.execution.executor import merge_root_response, run_node
from router.execution.prepared import PreparedOperation
from router.gateway.gateway import Gateway
from router.planning import PlanningError
from router.planning.nodes import FetchNode, PlanNode, QueryPlan, SequenceNode
from router.subscriptions.upstream import Upstream


def split_subscription(plan: QueryPlan) -> tuple[FetchNode, PlanNode | None]:
    """The subscription's fetch at its subgraph, and what runs for each of its events."""
    node = plan.node
    if isinstance(node, FetchNode):
        return node, None
    if isinstance(node, SequenceNode) and node.nodes and isinstance(node.nodes[0], FetchNode):
        rest = node.nodes[1:]
        return node.nodes[0], (rest[0] if len(rest) == 1 else SequenceNode(rest))
    raise PlanningError("a subscription must start with one fetch from one subgraph")


async def subscription_results(
    gateway: Gateway,
    prepared: PreparedOperation,
    variables: VariableValues,
    raw_variables: Mapping[str, Any],
    headers: Mapping[str, str],
    sockets: Upstream,
) -> AsyncIterator[dict[str, Any]]:
    """Each event of the subscription as the client's `next` payload. Raises
    SubgraphStreamError when the subgraph ends it with errors or cannot be reached."""
    primary, rest = split_subscription(prepared.plan)
    payload: dict[str, Any] = {"query": primary.operation}
    used = {name: raw_variables[name] for name in primary.variable_usages if name in raw_variables}
    if used:
        payload["variables"] = used
    events = sockets.subscribe(primary.service, payload)
    try:
        async for event in events:
            with telemetry.event_span(f"subscription event {primary.service}", _carried(event)):
                state = ExecutionState(
                    gateway.transport,
                    raw_variables,
                    headers,
                    gateway.abstract_types,
                    conditions=variables.coerced,
                    traced=telemetry.recording(),
                )
                merge_root_response(primary, event, state)
                if rest is not None and state.data:
                    await run_node(rest, state)
                yield prepared.respond(
                    gateway.supergraph.api_schema,
                    state.data,
                    state.errors,
                    variables,
                    raw_variables,
                    gateway.abstract_types,
                )
    finally:
        await events.aclose()


def _carried(event: Mapping[str, Any]) -> Mapping[str, str] | None:
    """The trace context the subgraph sent with the event (never passed to the client: only
    `data` and `errors` of a subgraph's event are)."""
    extensions = event.get("extensions")
    carried = extensions.get("trace") if isinstance(extensions, dict) else None
    return carried if isinstance(carried, dict) else None
