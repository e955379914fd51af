"""The router's Prometheus metrics: one registry, served at `telemetry.exporters.metrics.
prometheus.path` (`/metrics`). Each part of the router declares its own metrics, registered
here; operation names become labels through an `OperationNames`, bounded."""

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

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


def exposition() -> tuple[bytes, str]:
    """The registry in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
