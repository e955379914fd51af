"""Ids at the GraphQL edge are UUID strings; anything else is BAD_USER_INPUT naming the field."""

from __future__ import annotations

import uuid

import strawberry

from common.errors import BadUserInput


def parse_id(value: str, *, field: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise BadUserInput(f"{field} must be a UUID.", field=field) from None


def graphql_id(value: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(str(value))
