from __future__ import annotations

import json
import logging

from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext

from common.telemetry.logging import JsonFormatter


def test_log_lines_are_json_with_extras_and_redacted_secrets() -> None:
    record = logging.LogRecord("lms.test", logging.WARNING, __file__, 1, "hello %s", ("you",), None)
    record.user_id = "u-1"
    record.password = "hunter2"
    line = json.loads(JsonFormatter("users").format(record))
    assert line["message"] == "hello you"
    assert line["service"] == "users"
    assert line["level"] == "WARNING"
    assert line["user_id"] == "u-1"
    assert line["password"] == "[redacted]"


def test_a_line_carries_the_current_span_and_an_event_name() -> None:
    record = logging.LogRecord("lms.test", logging.INFO, __file__, 1, "sent %d", (3,), None)
    context = SpanContext(0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7, is_remote=False)
    with trace.use_span(NonRecordingSpan(context)):
        line = json.loads(JsonFormatter("users").format(record))
    assert (line["trace_id"], line["span_id"]) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
    )
    assert line["event"] == "sent %d"
    assert "trace_id" not in json.loads(JsonFormatter("users").format(record))
