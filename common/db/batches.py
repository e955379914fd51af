"""Batch reads behind DataLoaders: one query for many keys, rows handed back by key."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

RowT = TypeVar("RowT")
KeyT = TypeVar("KeyT", bound=Hashable)


async def rows_by_id(
    sessions: async_sessionmaker[AsyncSession], model: type[RowT], ids: Sequence[KeyT]
) -> dict[KeyT, RowT]:
    """The rows of `model` whose primary key is among `ids` (missing ones are absent)."""
    [column] = inspect(model).primary_key
    async with sessions() as session:
        rows = await session.scalars(select(model).where(column.in_(ids)))
        return {getattr(row, column.key): row for row in rows}


async def rows_grouped(
    sessions: async_sessionmaker[AsyncSession],
    model: type[RowT],
    column: InstrumentedAttribute[KeyT],
    keys: Sequence[KeyT],
    *order_by: Any,
) -> dict[KeyT, list[RowT]]:
    """The rows of `model` whose `column` is among `keys`, grouped by it, each group in
    `order_by` order (keys without rows are absent)."""
    async with sessions() as session:
        rows = await session.scalars(select(model).where(column.in_(keys)).order_by(*order_by))
        grouped: dict[KeyT, list[RowT]] = {}
        for row in rows:
            grouped.setdefault(getattr(row, column.key), []).append(row)
        return grouped
