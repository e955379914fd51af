"""The notifications domain's part of a user's data export: the notifications they received
(with each delivery's channel and status), their preferences and contact details."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from common.data_exports import Sections
from subgraphs.notifications.models import (
    ContactRow,
    DeliveryRow,
    NotificationRow,
    PreferenceRow,
)


def user_sections(user_id: uuid.UUID) -> Sections:
    return {
        "notifications": select(
            NotificationRow.id,
            NotificationRow.category,
            NotificationRow.title,
            NotificationRow.body,
            NotificationRow.data,
            NotificationRow.course_id,
            NotificationRow.created_at,
            NotificationRow.read_at,
        )
        .where(NotificationRow.user_id == user_id)
        .order_by(NotificationRow.created_at, NotificationRow.id),
        "deliveries": select(
            DeliveryRow.notification_id,
            DeliveryRow.channel,
            DeliveryRow.status,
            DeliveryRow.attempts,
            DeliveryRow.created_at,
            DeliveryRow.sent_at,
        )
        .where(DeliveryRow.user_id == user_id)
        .order_by(DeliveryRow.created_at, DeliveryRow.id),
        "preferences": select(
            PreferenceRow.category,
            PreferenceRow.channel,
            PreferenceRow.frequency,
            PreferenceRow.updated_at,
        )
        .where(PreferenceRow.user_id == user_id)
        .order_by(PreferenceRow.category, PreferenceRow.channel),
        "contacts": select(ContactRow.phone, ContactRow.push_token, ContactRow.updated_at).where(
            ContactRow.user_id == user_id
        ),
    }
