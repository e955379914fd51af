"""What the caller may read of the notifications subgraph: the one place resolvers check read
access. Notifications are their recipient's alone; anyone else's are not acknowledged."""

from __future__ import annotations

import uuid

from common.auth import Principal
from common.errors import Forbidden
from subgraphs.notifications.loaders import NotificationsInfo
from subgraphs.notifications.models import NotificationRow


async def own_notification(
    info: NotificationsInfo, notification_id: uuid.UUID
) -> NotificationRow | None:
    """The caller's notification with this id, or None (none, or someone else's)."""
    row = await info.context.loaders.notification.load(notification_id)
    principal = info.context.caller()
    if row is None or principal is None or row.user_id != principal.user_id:
        return None
    return row


def require_self(info: NotificationsInfo, user_id: uuid.UUID, what: str) -> Principal:
    """The caller, when they are this user; FORBIDDEN otherwise."""
    principal = info.context.require_principal()
    if principal.user_id != user_id:
        raise Forbidden(f"Only this user sees {what}.")
    return principal


def require_admin(info: NotificationsInfo, action: str) -> Principal:
    principal = info.context.require_principal()
    if not principal.is_admin:
        raise Forbidden(f"Only administrators {action}.")
    return principal
