"""Per-request DataLoaders of the notifications subgraph: one SQL query (or one call) per batch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeAlias

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from common.graphql.app import LoaderScope
from common.graphql.catalog import CourseFacts, course_facts_loader
from common.graphql.context import RequestContext
from common.graphql.loaders import batch_loader, grouped_loader
from common.graphql.peers import PeerClient
from subgraphs.notifications.models import DeliveryRow, NotificationRow
from subgraphs.notifications.services import NotificationsServices


@dataclass(frozen=True, slots=True)
class NotificationsLoaders:
    notification: DataLoader[uuid.UUID, NotificationRow | None]
    deliveries: DataLoader[uuid.UUID, list[DeliveryRow]]
    unread: DataLoader[uuid.UUID, int | None]
    course: DataLoader[uuid.UUID, CourseFacts | None]


def build_loaders(services: NotificationsServices, scope: LoaderScope) -> NotificationsLoaders:
    settings, http = scope.runtime.settings, scope.runtime.http
    notifications = services.notifications
    return NotificationsLoaders(
        notification=batch_loader(notifications.by_ids),
        deliveries=grouped_loader(notifications.deliveries_of),
        unread=batch_loader(notifications.unread_counts),
        course=course_facts_loader(
            PeerClient(http, "courses", settings.service_url("courses")), scope.authorization
        ),
    )


# What every resolver of the notifications subgraph gets as `info`.
NotificationsInfo: TypeAlias = Info[
    RequestContext[NotificationsServices, NotificationsLoaders], None
]
