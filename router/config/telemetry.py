"""`telemetry:`, in Apollo Router's shape (the part this router serves: Prometheus metrics,
trace context propagation, the access log)."""

from router.config.base import Section


class Prometheus(Section):
    enabled: bool = True
    path: str = "/metrics"


class MetricsExporters(Section):
    prometheus: Prometheus = Prometheus()


class AccessLog(Section):
    """This router's own: one JSON line per request on stderr."""

    enabled: bool = True


class Logging(Section):
    level: str = "INFO"
    access_log: AccessLog = AccessLog()


class Exporters(Section):
    metrics: MetricsExporters = MetricsExporters()
    logging: Logging = Logging()


class TelemetrySection(Section):
    exporters: Exporters = Exporters()
