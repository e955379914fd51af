"""`telemetry:`, in Apollo Router's shape (the part this router serves: Prometheus metrics,
trace context propagation, the access log)."""

from pydantic import Field

from router.config.base import Section


class Prometheus(Section):
    enabled: bool = True
    path: str = "/metrics"


class MetricsExporters(Section):
    prometheus: Prometheus = Prometheus()


class AccessLog(Section):
    """This router's own: one JSON line per HTTP request on stderr (logger `router.access`,
    whatever the log level; `router.server.access_log` says what a line holds)."""

    enabled: bool = Field(default=True, description="one JSON line per HTTP request")


class Logging(Section):
    level: str = "INFO"
    access_log: AccessLog = AccessLog()


class Exporters(Section):
    metrics: MetricsExporters = MetricsExporters()
    logging: Logging = Logging()


class TelemetrySection(Section):
    exporters: Exporters = Exporters()
