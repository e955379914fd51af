from __future__ import annotations

import json
import logging

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
