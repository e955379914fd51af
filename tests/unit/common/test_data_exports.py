"""A data export's part: bounded in size, JSON of the rows' values."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from common.data_exports import part_event, to_json
from common.events.envelope import MAX_EVENT_BYTES, Event

EXPORT, USER = uuid.uuid4(), uuid.uuid4()


def test_a_part_travels_as_json_text() -> None:
    text = to_json({"rows": [{"id": USER, "at": datetime(2026, 1, 2, tzinfo=UTC)}]})
    event = part_event("courses", EXPORT, USER, text, 4096)
    assert event.data["part"] == "courses"
    assert json.loads(event.data["content"]) == {
        "rows": [{"id": str(USER), "at": "2026-01-02T00:00:00+00:00"}]
    }
    assert "error" not in event.data


def test_a_part_over_the_limit_is_an_error_not_a_cut() -> None:
    # quotes double when escaped into the event: the limit counts the escaped size
    text = '"' * 600
    event = part_event("notifications", EXPORT, USER, text, 1024)
    assert "content" not in event.data
    assert event.data["error"] == "the notifications part is 1202 bytes, over the limit of 1024"


def test_the_largest_part_allowed_still_fits_in_an_event() -> None:
    text = '"' * (192 * 1024 // 2 - 1)
    event = part_event("users", EXPORT, USER, text, 192 * 1024)
    assert "content" in event.data
    body = event.to_json()
    assert len(body) <= MAX_EVENT_BYTES
    assert Event.from_json(body).data["content"] == text


def test_values_with_no_json_form_are_refused() -> None:
    with pytest.raises(TypeError, match="bytes is not exported"):
        to_json({"secret": b"\x00"})
