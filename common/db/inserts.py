"""Inserting rows that may already be stored: idempotent writes keyed by a unique constraint."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute


async def insert_missing(
    session: AsyncSession,
    id_column: InstrumentedAttribute[uuid.UUID],
    rows: Sequence[Mapping[str, Any]],
    key: Sequence[str],
) -> set[uuid.UUID]:
    """Insert, in one statement, the rows whose `key` (the columns of a unique constraint)
    matches no stored row, into the table of `id_column`; the ids of the rows inserted."""
    statement = (
        insert(id_column.class_)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=list(key))
        .returning(id_column)
    )
    return set(await session.scalars(statement))
