"""`telemetry:`, in Apollo Router's shape (the part this router serves: Prometheus metrics,
traces exported to Zipkin or OTLP, the access log)."""

from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, BeforeValidator, Field, WithJsonSchema

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


def _sampler(value: Any) -> Any:
    return (
        {"always_on": 1.0, "always_off": 0.0}.get(value, value) if isinstance(value, str) else value
    )


Sampler = Annotated[
    float,
    BeforeValidator(_sampler),
    Field(ge=0, le=1),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 1},
                {"enum": ["always_on", "always_off"]},
            ]
        }
    ),
]


class TracingCommon(Section):
    service_name: str = Field(
        default="router", min_length=1, description="the service name the spans carry"
    )
    sampler: Sampler = Field(
        default=1.0,
        description="the share of new traces recorded: a ratio from 0 to 1, always_on (1) "
        "or always_off (0)",
    )
    parent_based_sampler: bool = Field(
        default=True,
        description="a request carrying a `traceparent` follows its sampled flag instead of "
        "the ratio",
    )


class Zipkin(Section):
    enabled: bool = Field(default=False, description="export spans to Zipkin (JSON v2 over HTTP)")
    endpoint: AnyHttpUrl = Field(
        default=AnyHttpUrl("http://127.0.0.1:9411/api/v2/spans"),
        description="Zipkin's span collector",
    )


class Otlp(Section):
    enabled: bool = Field(default=False, description="export spans over OTLP")
    endpoint: AnyHttpUrl = Field(
        default=AnyHttpUrl("http://127.0.0.1:4318/v1/traces"),
        description="the collector's traces endpoint",
    )
    protocol: Literal["http"] = Field(
        default="http", description="http (protobuf over HTTP); grpc is not supported"
    )


class TracingExporters(Section):
    """Traces (OpenTelemetry, W3C trace context): off unless an exporter is enabled; read
    once at start (a change needs a restart)."""

    common: TracingCommon = TracingCommon()
    zipkin: Zipkin = Zipkin()
    otlp: Otlp = Otlp()

    @property
    def enabled(self) -> bool:
        return self.zipkin.enabled or self.otlp.enabled


class Exporters(Section):
    metrics: MetricsExporters = MetricsExporters()
    logging: Logging = Logging()
    tracing: TracingExporters = TracingExporters()


class TelemetrySection(Section):
    exporters: Exporters = Exporters()
