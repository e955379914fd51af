"""The one way aggregates are counted: insert the row, or add to the one there (so two
statements counted at once never lose one another's counts)."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.analytics.models import Base


async def add_counts(
    session: AsyncSession,
    model: type[Base],
    keys: dict[str, object],
    counts: dict[str, object],
    extra: dict[str, object] | None = None,
) -> None:
    """Insert the aggregate row, or add `counts` to the one there."""
    statement = insert(model).values(**keys, **counts, **(extra or {}))
    table = model.__table__
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: table.c[name] + statement.excluded[name] for name in counts},
        )
    )
