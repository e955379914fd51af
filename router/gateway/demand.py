"""Demand control (`demand_control:` of `router.yaml`, Apollo Router's): each operation's
estimated cost (`demand_estimate`) checked before it is planned, refused over
`strategy.static_estimated.max` in `enforce` mode (`COST_ESTIMATED_TOO_EXPENSIVE`, the
estimate in the error's extensions), only measured in `measure` mode; its actual cost
(`demand_actual`) measured on the response. Both go to the metrics by operation name."""

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLSchema, OperationDefinitionNode
from prometheus_client import Histogram

from router.config.demand_control import DemandControlSection
from router.gateway.demand_actual import ActualCost
from router.gateway.demand_estimate import CostError, OperationCost, compile_cost
from router.lru import LRU
from router.metrics import REGISTRY, OperationNames
from router.supergraph.costs import CostDirectives

TOO_EXPENSIVE = "COST_ESTIMATED_TOO_EXPENSIVE"
NOT_COSTABLE = "COST_QUERY_PARSE_FAILURE"
COST_OK = "COST_OK"
_BUCKETS = (0, 10, 100, 1_000, 10_000, 100_000, 1_000_000, float("inf"))
ESTIMATED = Histogram(
    "router_operation_cost_estimated",
    "The estimated cost of an operation, before it is planned (demand control)",
    ["operation", "result"],
    buckets=_BUCKETS,
    registry=REGISTRY,
)
ACTUAL = Histogram(
    "router_operation_cost_actual",
    "The actual cost of an operation, measured on its response (demand control)",
    ["operation"],
    buckets=_BUCKETS,
    registry=REGISTRY,
)
DELTA = Histogram(
    "router_operation_cost_delta",
    "The estimated cost of an operation minus its actual cost (demand control)",
    ["operation"],
    buckets=(-1_000, -100, -10, 0, 10, 100, 1_000, 10_000, 100_000, float("inf")),
    registry=REGISTRY,
)

_NAMES = OperationNames()  # one per process, as the metrics are
_SAMPLER = random.Random()  # noqa: S311 (which responses are measured: not a secret)


@dataclass(frozen=True)
class DemandPolicy:
    """`demand_control:` compiled: None when not enabled."""

    enforce: bool
    list_size: int
    max: float
    sample_rate: float = 1.0  # of responses whose actual cost is measured

    @staticmethod
    def from_config(section: DemandControlSection) -> "DemandPolicy | None":
        if not section.enabled:
            return None
        estimated = section.strategy.static_estimated
        return DemandPolicy(
            section.mode == "enforce",
            estimated.list_size,
            float(estimated.max),
            section.actual_cost_sample_rate,
        )


@dataclass(frozen=True)
class Refusal:
    message: str
    code: str
    extensions: Mapping[str, Any]


@dataclass(frozen=True)
class Costing:
    """An operation's cost, compiled: its estimate and how to measure its responses."""

    estimate: OperationCost | CostError
    actual: ActualCost


@dataclass(frozen=True)
class Measured:
    """One request's estimate, kept to measure its response against."""

    actual: ActualCost
    variables: Mapping[str, Any]  # the request's, the operation's defaults applied
    label: str
    estimated: float | None  # None when the variables break a `@listSize` rule (measure mode)


class DemandControl:
    """Demand control over one supergraph: the cost formula of each operation is compiled
    once (`cache_size` kept) and evaluated per request with its variables."""

    def __init__(
        self,
        policy: DemandPolicy,
        schema: GraphQLSchema,
        costs: CostDirectives,
        cache_size: int = 1024,
    ) -> None:
        self.policy = policy
        self.schema = schema
        self.costs = costs
        self._costings: LRU[tuple[str, str | None], Costing] = LRU(cache_size)

    def costing(
        self,
        key: tuple[str, str | None],
        document: DocumentNode,
        operation: OperationDefinitionNode,
    ) -> Costing:
        cached = self._costings.get(key)
        if cached is None:
            estimate: OperationCost | CostError
            try:
                estimate = compile_cost(
                    self.schema, self.costs, self.policy.list_size, document, operation
                )
            except CostError as error:
                estimate = error
            cached = Costing(estimate, ActualCost(self.schema, self.costs, document, operation))
            self._costings.put(key, cached)
        return cached

    def check(
        self,
        key: tuple[str, str | None],
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any] | None,
    ) -> Measured | Refusal:
        """The request's estimate, or why it is refused (`enforce` mode only)."""
        label = _NAMES.label(operation.name.value if operation.name else None)
        costing = self.costing(key, document, operation)
        formula = costing.estimate
        try:
            if isinstance(formula, CostError):
                raise formula
            estimated = formula.estimate(variables)
        except CostError as error:
            if self.policy.enforce:
                return Refusal(str(error), NOT_COSTABLE, {})
            return Measured(costing.actual, variables or {}, label, None)
        merged = {**formula.defaults, **(variables or {})}
        over = estimated > self.policy.max
        ESTIMATED.labels(label, TOO_EXPENSIVE if over else COST_OK).observe(estimated)
        if over and self.policy.enforce:
            return Refusal(
                f"The estimated cost of the operation ({estimated:g}) is over the maximum "
                f"allowed ({self.policy.max:g}).",
                TOO_EXPENSIVE,
                {"cost.estimated": estimated, "cost.max": self.policy.max},
            )
        return Measured(costing.actual, merged, label, estimated)

    def measure(self, measured: Measured, data: object) -> None:
        """Records the actual cost of the response `data` (and how far the estimate was)."""
        if not isinstance(data, dict):
            return
        rate = self.policy.sample_rate
        if rate < 1 and _SAMPLER.random() >= rate:
            return
        actual = measured.actual.measure(data, measured.variables)
        ACTUAL.labels(measured.label).observe(actual)
        if measured.estimated is not None:
            DELTA.labels(measured.label).observe(measured.estimated - actual)
