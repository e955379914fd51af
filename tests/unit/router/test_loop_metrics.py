"""The event-loop metrics (`router.metrics.LoopHistogram`, `LoopCounter`) read at /metrics
exactly as prometheus_client's `Histogram` and `Counter` do, but for their `_created`
series: same names, labels, buckets (on their bounds too), sums and escaping."""

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from router.metrics import LoopCounter, LoopHistogram

LABELS = ("users", 'a "quoted"\nname')


def _series(registry: CollectorRegistry, name: str) -> list[str]:
    lines = generate_latest(registry).decode().splitlines()
    return [
        line.replace(name, "metric")
        for line in lines
        if name in line and "_created" not in line and not line.startswith("#")
    ]


@pytest.mark.parametrize("buckets", [Histogram.DEFAULT_BUCKETS, (0.1, 1.0)])
def test_a_loop_histogram_reads_as_a_histogram(buckets: tuple[float, ...]) -> None:
    registry = CollectorRegistry(auto_describe=True)
    theirs = Histogram("theirs_seconds", "doc", ["subgraph"], buckets=buckets, registry=registry)
    ours = LoopHistogram("ours_seconds", "doc", "subgraph", buckets, registry)
    for label in LABELS:
        for value in (0.0, 0.005, 0.0051, 0.1, 0.75, 1.0, 9.99, 10.0, 1e6):
            theirs.labels(label).observe(value)
            ours.observe(label, value)
    expected = _series(registry, "theirs_seconds")
    assert len(expected) == len(LABELS) * (len(theirs._upper_bounds) + 2)
    assert _series(registry, "ours_seconds") == expected


def test_a_loop_counter_reads_as_a_counter() -> None:
    registry = CollectorRegistry(auto_describe=True)
    theirs = Counter("theirs", "doc", ["subgraph"], registry=registry)
    ours = LoopCounter("ours", "doc", "subgraph", registry)
    for label, times in zip(LABELS, (3, 1), strict=True):
        for _ in range(times):
            theirs.labels(label).inc()
            ours.inc(label)
    assert _series(registry, "ours") == _series(registry, "theirs")
    assert len(_series(registry, "ours")) == len(LABELS)
