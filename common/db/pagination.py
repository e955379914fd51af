"""Keyset pagination over (created_at, id): stable under inserts, one indexed range scan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from common.pagination import Cursor, page_size

RowT = TypeVar("RowT")


@dataclass(frozen=True, slots=True)
class Page(Generic[RowT]):
    rows: list[RowT]
    cursors: list[Cursor]
    has_next_page: bool
    has_previous_page: bool
    total_count: int


async def fetch_page(
    session: AsyncSession,
    query: Select[tuple[RowT]],
    *,
    created_at: ColumnElement[Any],
    row_id: ColumnElement[Any],
    first: int | None,
    after: str | None,
) -> Page[RowT]:
    size = page_size(first)
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    if after is not None:
        cursor = Cursor.decode(after)
        query = query.where(tuple_(created_at, row_id) > tuple_(cursor.created_at, cursor.id))
    result = await session.scalars(query.order_by(created_at, row_id).limit(size + 1))
    rows = cast(list[RowT], list(result.all()))
    has_next = len(rows) > size
    rows = rows[:size]
    cursors = [Cursor(getattr(row, "created_at"), getattr(row, "id")) for row in rows]  # noqa: B009
    return Page(rows, cursors, has_next, after is not None, total or 0)
