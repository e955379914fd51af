"""`demand_control:`, in Apollo Router's shape: the static cost of an operation from `@cost`
and `@listSize` (IBM's GraphQL cost directive specification)."""

from typing import Literal

from pydantic import Field

from router.config.base import NonNegativeInt, PositiveInt, Ratio, Section


class StaticEstimated(Section):
    list_size: NonNegativeInt = Field(
        default=10,
        description="the assumed size of a list that neither a slicing argument nor "
        "@listSize(assumedSize:) bounds",
    )
    max: PositiveInt = Field(
        default=10_000,
        description="the largest estimated cost an operation may have (refused above it in "
        "enforce mode, with COST_ESTIMATED_TOO_EXPENSIVE)",
    )


class Strategy(Section):
    static_estimated: StaticEstimated = StaticEstimated()


class DemandControlSection(Section):
    enabled: bool = False
    mode: Literal["measure", "enforce"] = Field(
        default="measure",
        description="measure: record estimated and actual costs only; enforce: also refuse "
        "operations estimated over strategy.static_estimated.max, before they are planned",
    )
    strategy: Strategy = Strategy()
    actual_cost_sample_rate: Ratio = Field(
        default=1.0,
        description="this router's own: the share of responses whose actual cost is "
        "measured for the metrics (a walk of the whole response: about 0.6 ms for 90 KB); "
        "the estimate is made, and enforced, on every operation",
    )
