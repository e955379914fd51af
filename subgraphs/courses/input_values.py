"""Values read from GraphQL inputs: optional ids, and the fields a client set."""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Any

import strawberry

from common.graphql.ids import parse_id


def optional_id(value: strawberry.ID | None, field: str) -> uuid.UUID | None:
    return None if value is None else parse_id(value, field=field)


def fields_set(value: object, *, ids: dict[str, str] | None = None) -> dict[str, Any]:
    """The fields of an input the client set, enum members as values, ids parsed."""
    ids = ids or {}
    result: dict[str, Any] = {}
    for name, item in vars(value).items():
        if item is strawberry.UNSET or name in {"id", "version"}:
            continue
        if name in ids and item is not None:
            item = (
                [parse_id(one, field=ids[name]) for one in item]
                if isinstance(item, list)
                else parse_id(item, field=ids[name])
            )
        result[name] = item.value if isinstance(item, Enum) else item
    return result
