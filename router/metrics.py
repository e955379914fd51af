"""The router's Prometheus metrics: one registry, served at `telemetry.exporters.metrics.
prometheus.path` (`/metrics`). Each part of the router declares its own metrics, registered
here; operation names become labels through an `OperationNames`, bounded."""

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from itertools import accumulate

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)

ANONYMOUS = "anonymous"
OTHER = "other"  # once MAX_OPERATION_NAMES names have their own label, or a long name
MAX_OPERATION_NAMES = 100
MAX_NAME_LENGTH = 64


class OperationNames:
    """Operation names as metric labels: the first `cap` names seen, then one label for the
    rest, so that clients cannot grow the metrics without bound."""

    def __init__(self, cap: int = MAX_OPERATION_NAMES) -> None:
        self.cap = cap
        self._seen: set[str] = set()

    def label(self, name: str | None) -> str:
        if not name:
            return ANONYMOUS
        if name in self._seen:
            return name
        if len(self._seen) >= self.cap or len(name) > MAX_NAME_LENGTH:
            return OTHER
        self._seen.add(name)
        return name


INF = float("inf")


class _LoopSeries:
    """One labelled series of a `LoopHistogram`."""

    __slots__ = ("counts", "total")

    def __init__(self, buckets: int) -> None:
        self.counts = [0] * buckets  # observations per bucket (not cumulative)
        self.total = 0.0


class LoopHistogram(Collector):
    """A histogram with one label, observed from the event loop's thread only (the router's
    hot paths: a subgraph fetch), exposed like prometheus_client's `Histogram` but for its
    `_created` series. An observation is a bisection and two additions (a `Histogram` takes
    a lock and updates two values under locks of their own: 2-3 % of a request's CPU on the
    peer benchmark's query, 13 fetches)."""

    def __init__(
        self,
        name: str,
        documentation: str,
        label: str,
        buckets: Sequence[float] = Histogram.DEFAULT_BUCKETS,
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        self.name, self.documentation, self.label = name, documentation, label
        self.bounds = tuple(buckets) if buckets[-1] == INF else (*buckets, INF)
        self._series: dict[str, _LoopSeries] = {}  # by label value
        registry.register(self)

    def observe(self, label: str, value: float) -> None:
        series = self._series.get(label)
        if series is None:
            series = self._series[label] = _LoopSeries(len(self.bounds))
        series.counts[bisect_left(self.bounds, value)] += 1
        series.total += value

    def describe(self) -> Iterator[Metric]:
        yield HistogramMetricFamily(self.name, self.documentation, labels=[self.label])

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=[self.label])
        bounds = ["+Inf" if bound == INF else repr(float(bound)) for bound in self.bounds]
        for value, series in list(self._series.items()):
            cumulative = accumulate(list(series.counts))
            buckets = [(le, float(n)) for le, n in zip(bounds, cumulative, strict=True)]
            family.add_metric([value], buckets, series.total)
        yield family


class LoopCounter(Collector):
    """A counter with one label, counted from the event loop's thread only (a deduplicated
    subgraph fetch), exposed like prometheus_client's `Counter` but for its `_created`
    series: an increment is an addition (a `Counter`'s takes a lock)."""

    def __init__(
        self, name: str, documentation: str, label: str, registry: CollectorRegistry = REGISTRY
    ) -> None:
        self.name, self.documentation, self.label = name, documentation, label
        self._counts: dict[str, float] = {}  # by label value
        registry.register(self)

    def inc(self, label: str) -> None:
        self._counts[label] = self._counts.get(label, 0) + 1

    def describe(self) -> Iterator[Metric]:
        yield CounterMetricFamily(self.name, self.documentation, labels=[self.label])

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=[self.label])
        for value, count in list(self._counts.items()):
            family.add_metric([value], count)
        yield family


def exposition() -> tuple[bytes, str]:
    """The registry in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
