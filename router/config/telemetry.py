"""`telemetry:`, in Apollo Router's shape (the part this router serves: Prometheus metrics,
trace context propagation, the access log)."""

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from router.config.base import Section
from router.config.server import UrlPath

LogLevel = Annotated[
    Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
    BeforeValidator(lambda value: value.upper() if isinstance(value, str) else value),
]


class Prometheus(Section):
    enabled: bool = Field(default=True, description="false: no metrics endpoint")
    path: UrlPath = Field(default="/metrics", description="where the metrics are served (GET)")


class MetricsExporters(Section):
    prometheus: Prometheus = Prometheus()


class AccessLog(Section):
    """This router's own: one JSON line per HTTP request on stderr (logger `router.access`,
    whatever the log level; `router.server.access_log` says what a line holds)."""

    enabled: bool = Field(default=True, description="one JSON line per HTTP request")


class Logging(Section):
    level: LogLevel = Field(
        default="INFO",
        description="this router's own: least severe log records written (JSON lines on "
        "stderr; a change needs a restart)",
    )
    access_log: AccessLog = AccessLog()


class Exporters(Section):
    metrics: MetricsExporters = MetricsExporters()
    logging: Logging = Logging()


class TelemetrySection(Section):
    exporters: Exporters = Exporters()
