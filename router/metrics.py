"""The router's Prometheus metrics: one registry, served at `telemetry.exporters.metrics.
prometheus.path` (`/metrics`). Each policy declares its own metrics, registered here."""

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)


def exposition() -> tuple[bytes, str]:
    """The registry in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
