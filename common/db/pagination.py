"""Keyset pagination over (created_at, id): stable under inserts, one indexed range scan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import ColumnElement, Select, func, inspect, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from common.pagination import Cursor, KeyCursor, OffsetCursor, page_size

RowT = TypeVar("RowT")
# A column to order by: a mapped attribute (CourseRow.created_at) or any SQL expression.
OrderColumn = ColumnElement[Any] | InstrumentedAttribute[Any]


@dataclass(frozen=True, slots=True)
class Page(Generic[RowT]):
    rows: list[RowT]
    cursors: list[Cursor] | list[KeyCursor] | list[OffsetCursor]
    has_next_page: bool
    has_previous_page: bool
    total_count: int


async def fetch_page(
    session: AsyncSession,
    query: Select[RowT],
    *,
    created_at: OrderColumn,
    row_id: OrderColumn,
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


async def fetch_ordered_page(
    session: AsyncSession,
    query: Select[RowT],
    *,
    key: OrderColumn,
    key_name: str,
    row_id: OrderColumn,
    descending: bool,
    first: int | None,
    after: str | None,
) -> Page[RowT]:
    """Keyset pagination over (key, id), either direction; key_name is the row attribute."""
    size = page_size(first)
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    if after is not None:
        cursor = KeyCursor.decode(after)
        position = tuple_(key, row_id)
        bound = tuple_(cursor.key, cursor.id)
        query = query.where(position < bound if descending else position > bound)
    order = (key.desc(), row_id.desc()) if descending else (key.asc(), row_id.asc())
    result = await session.scalars(query.order_by(*order).limit(size + 1))
    rows = cast(list[RowT], list(result.all()))
    has_next = len(rows) > size
    rows = rows[:size]
    cursors = [KeyCursor(getattr(row, key_name), getattr(row, "id")) for row in rows]  # noqa: B009
    return Page(rows, cursors, has_next, after is not None, total or 0)


async def fetch_ranked_page(
    session: AsyncSession,
    query: Select[RowT],
    *,
    first: int | None,
    after: str | None,
) -> Page[RowT]:
    """Offset pagination for an already ordered query (search results by rank)."""
    size = page_size(first)
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    offset = OffsetCursor.decode(after).offset if after is not None else 0
    result = await session.scalars(query.offset(offset).limit(size + 1))
    rows = cast(list[RowT], list(result.all()))
    has_next = len(rows) > size
    rows = rows[:size]
    cursors = [OffsetCursor(offset + index + 1) for index in range(len(rows))]
    return Page(rows, cursors, has_next, offset > 0, total or 0)


async def fetch_listed_page(
    session: AsyncSession,
    model: type[RowT],
    ranked_ids: list[Any],
    *,
    first: int | None,
    after: str | None,
) -> Page[RowT]:
    """Offset pagination over ids ranked outside SQL (semantic search): one page's rows,
    loaded by primary key in the ranking's order."""
    size = page_size(first)
    offset = OffsetCursor.decode(after).offset if after is not None else 0
    window = ranked_ids[offset : offset + size + 1]
    [key] = inspect(model).primary_key
    loaded = await session.scalars(select(model).where(key.in_(window)))
    by_id = {getattr(row, key.key): row for row in loaded}
    rows = [by_id[item] for item in window[:size] if item in by_id]
    cursors = [OffsetCursor(offset + index + 1) for index in range(len(rows))]
    return Page(rows, cursors, len(window) > size, offset > 0, len(ranked_ids))
