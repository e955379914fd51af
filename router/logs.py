"""The router's logs: JSON on stderr, one object per line, with the ``extra`` fields given,
an `event` name (the ``event`` extra, else the message before formatting) and the
`trace_id` and `span_id` of the current span when there is one.

Fields named like credentials are written as ``[redacted]``, whoever logs them.
"""

import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

from router import jsonio

_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None)))
_SKIPPED = _RECORD_FIELDS | {"message", "asctime", "taskName", "color_message"}
_SECRET_FIELDS = frozenset({"authorization", "token", "access_token", "api_key", "password"})


class RouterLogFormat(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line: dict[str, Any] = {
            "ts": when,
            "level": record.levelname,
            "service": "router",
            "logger": record.name,
            "message": record.getMessage(),
            "event": record.msg if isinstance(record.msg, str) else record.name,
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            line["trace_id"] = format(span.trace_id, "032x")
            line["span_id"] = format(span.span_id, "016x")
        line.update(
            {
                k: "[redacted]" if k.lower() in _SECRET_FIELDS else v
                for k, v in vars(record).items()
                if k not in _SKIPPED and k[:1] != "_"
            }
        )
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return jsonio.dumps_loose(line).decode()  # (a line for every request: orjson)


def log_json_to_stderr(level: str = "INFO") -> None:
    """Every logger (uvicorn's too, access lines only from warnings) through one handler."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RouterLogFormat())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # what a record notes that no line shows (its thread and process): not looked up for each
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
