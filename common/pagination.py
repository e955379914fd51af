"""Opaque keyset cursors for Relay connections: (created_at, id) of the last row seen."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from common.errors import BadUserInput

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class Cursor:
    created_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), str(self.id)]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            created_at, row_id = json.loads(raw)
            return cls(datetime.fromisoformat(created_at), uuid.UUID(row_id))
        except (ValueError, TypeError, binascii.Error):
            raise BadUserInput("The cursor is not one this API returned.", field="after") from None


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise BadUserInput(f"first must be between 0 and {MAX_PAGE_SIZE}.", field="first")
    return first


def _encode(payload: list[object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _decode(value: str) -> list[object]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, TypeError, binascii.Error):
        payload = None
    if not isinstance(payload, list):
        raise BadUserInput("The cursor is not one this API returned.", field="after")
    return payload


@dataclass(frozen=True, slots=True)
class KeyCursor:
    """Position after a row in an ordering by (key, id); key is a timestamp or a string."""

    key: datetime | str
    id: uuid.UUID

    def encode(self) -> str:
        if isinstance(self.key, datetime):
            return _encode(["t", self.key.isoformat(), str(self.id)])
        return _encode(["s", self.key, str(self.id)])

    @classmethod
    def decode(cls, value: str) -> KeyCursor:
        payload = _decode(value)
        try:
            kind, key, row_id = payload
            if kind == "t" and isinstance(key, str):
                return cls(datetime.fromisoformat(key), uuid.UUID(str(row_id)))
            if kind == "s" and isinstance(key, str):
                return cls(key, uuid.UUID(str(row_id)))
        except (ValueError, TypeError):
            pass
        raise BadUserInput("The cursor is not one this API returned.", field="after")


@dataclass(frozen=True, slots=True)
class OffsetCursor:
    """Position in a ranked list (search results), where no stable key exists."""

    offset: int

    def encode(self) -> str:
        return _encode(["o", self.offset])

    @classmethod
    def decode(cls, value: str) -> OffsetCursor:
        payload = _decode(value)
        offset = payload[1] if len(payload) == 2 and payload[0] == "o" else None
        if isinstance(offset, int) and 0 <= offset <= MAX_OFFSET:
            return cls(offset)
        raise BadUserInput("The cursor is not one this API returned.", field="after")


MAX_OFFSET = 10_000
