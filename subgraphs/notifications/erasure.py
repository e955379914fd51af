"""What the notifications domain does when a user is deleted: their notifications,
preferences and contacts go; notifications they sent to others keep no sender."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.notifications.models import ContactRow, NotificationRow, PreferenceRow


async def erase_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    for table in (NotificationRow, PreferenceRow, ContactRow):
        await session.execute(delete(table).where(table.user_id == user_id))
    await session.execute(
        update(NotificationRow).where(NotificationRow.sender_id == user_id).values(sender_id=None)
    )
