"""`demand_control:`, in Apollo Router's shape: the static cost of an operation from `@cost`
and `@listSize` (IBM's GraphQL cost directive specification)."""

from typing import Literal

from router.config.base import NonNegativeInt, PositiveInt, Section


class StaticEstimated(Section):
    list_size: NonNegativeInt = 10  # the assumed size of a list no `@listSize` bounds
    max: PositiveInt = 10_000


class Strategy(Section):
    static_estimated: StaticEstimated = StaticEstimated()


class DemandControlSection(Section):
    enabled: bool = False
    mode: Literal["measure", "enforce"] = "measure"
    strategy: Strategy = Strategy()
