"""The event envelope: payloads checked against the catalogue, trace context carried."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from common.events.catalog import markdown
from common.events.envelope import Event, InvalidEvent

PAYLOAD = {"user_id": str(uuid.uuid4()), "name": "Ann", "locale": "en"}


def test_round_trip_keeps_everything() -> None:
    event = Event("user.registered", PAYLOAD, "users")
    again = Event.from_json(event.to_json())
    assert again == event


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"type": "user.registered"}',
        Event("user.registered", PAYLOAD, "users").to_json().replace(b'"Ann"', b"42"),
        Event("user.registered", PAYLOAD, "users")
        .to_json()
        .replace(b'"version":1', b'"version":9'),
    ],
)
def test_bad_envelopes_and_payloads_are_refused(body: bytes) -> None:
    with pytest.raises(InvalidEvent):
        Event.from_json(body)


def test_unknown_types_and_wrong_fields_are_refused_at_the_producer() -> None:
    with pytest.raises(InvalidEvent, match="unknown event"):
        Event("user.exploded", {}, "users")
    with pytest.raises(InvalidEvent, match="user_id is not a uuid"):
        Event("user.deleted", {"user_id": "nope"}, "users")


def test_the_producers_trace_context_travels_with_the_event() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("mutation") as span:
        event = Event("user.deleted", {"user_id": str(uuid.uuid4())}, "users")
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert trace_id in event.trace["traceparent"]
    assert trace.get_current_span().get_span_context().is_valid is False


def test_the_catalogue_document_lists_every_event_and_is_current() -> None:
    document = markdown()
    for event_type in ("user.registered", "submission.graded", "user.deleted"):
        assert f"`{event_type}`" in document
    written = Path(__file__).resolve().parents[3] / "docs" / "events.md"
    assert written.read_text() == document, "run: lms events catalog > docs/events.md"
