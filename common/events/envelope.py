"""The event envelope every domain event travels in, and its checks.

An event says that something happened in one domain: `type` (``enrollment.created``),
`version` of its payload, `occurred_at`, `producer`, `data` (the payload, validated against
the catalogue) and `trace` (W3C trace context, so a consumer's span joins the producer's
trace). Its `id` is what consumers deduplicate on.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opentelemetry import propagate

from common import clock
from common.events.catalog import validate_payload

MAX_EVENT_BYTES = 256 * 1024


class InvalidEvent(ValueError):
    """An envelope or payload that does not match the catalogue; never retried."""


def current_trace() -> dict[str, str]:
    """The active span's W3C trace context (`traceparent`, `tracestate`), if there is one."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    data: dict[str, Any]
    producer: str
    version: int = 1
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime = field(default_factory=clock.now)
    trace: dict[str, str] = field(default_factory=current_trace)

    def __post_init__(self) -> None:
        problem = validate_payload(self.type, self.version, self.data)
        if problem is not None:
            raise InvalidEvent(problem)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "version": self.version,
            "occurred_at": self.occurred_at.isoformat(),
            "producer": self.producer,
            "data": self.data,
            "trace": self.trace,
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":"), default=str).encode()

    @classmethod
    def from_dict(cls, raw: Any) -> Event:
        if not isinstance(raw, dict):
            raise InvalidEvent("an event is a JSON object")
        try:
            return cls(
                type=str(raw["type"]),
                data=dict(raw["data"]),
                producer=str(raw["producer"]),
                version=int(raw["version"]),
                id=uuid.UUID(str(raw["id"])),
                occurred_at=datetime.fromisoformat(str(raw["occurred_at"])),
                trace={str(k): str(v) for k, v in dict(raw.get("trace") or {}).items()},
            )
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, InvalidEvent):
                raise
            raise InvalidEvent(f"malformed envelope: {error}") from None

    @classmethod
    def from_json(cls, body: bytes) -> Event:
        if len(body) > MAX_EVENT_BYTES:
            raise InvalidEvent(f"events are at most {MAX_EVENT_BYTES} bytes")
        try:
            raw = json.loads(body)
        except ValueError:
            raise InvalidEvent("the body is not JSON") from None
        return cls.from_dict(raw)
