"""GraphQL surface of the notifications subgraph: thin resolvers over its service.

A user reads, marks and deletes only their own notifications; preferences and contacts are
their own (administrators may read preferences); templates are administrators'.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from opentelemetry.trace import SpanKind
from strawberry.scalars import JSON

from common.errors import BadUserInput, DomainError, EventsMissed, NotFound
from common.graphql.access import scopes, signed_in
from common.graphql.catalog import visible_course
from common.graphql.ids import graphql_id, parse_id
from common.graphql.relay import PAGED, Connection
from common.graphql.schema import ServiceSchema
from common.realtime import TRACE_KEY
from common.telemetry import tracing
from subgraphs.notifications import categories
from subgraphs.notifications import channels as channel_values
from subgraphs.notifications.guards import own_notification, require_admin, require_self
from subgraphs.notifications.live import (
    ADDED,
    SUBSCRIBE_WAIT_SECONDS,
    LiveNotification,
    row_of,
    subscriber,
)
from subgraphs.notifications.loaders import NotificationsInfo
from subgraphs.notifications.models import DeliveryRow, NotificationRow, TemplateRow
from subgraphs.notifications.service import Audience, PreferenceChange

NotificationCategory = strawberry.enum(categories.Category, name="NotificationCategory")
NotificationChannel = strawberry.enum(channel_values.Channel, name="NotificationChannel")
NotificationFrequency = strawberry.enum(categories.Frequency, name="NotificationFrequency")
DeliveryStatus = strawberry.enum(categories.DeliveryStatus, name="DeliveryStatus")


@strawberry.type(description="How one notification went out on one channel.")
class Delivery:
    channel: NotificationChannel  # type: ignore[valid-type]
    status: DeliveryStatus  # type: ignore[valid-type]
    attempts: int
    digest: NotificationFrequency | None  # type: ignore[valid-type]
    last_error: str | None = strawberry.field(description="Why it failed or was skipped.")
    sent_at: datetime | None


def delivery_of(row: DeliveryRow) -> Delivery:
    return Delivery(
        channel=channel_values.Channel(row.channel),
        status=categories.DeliveryStatus(row.status),
        attempts=row.attempts,
        digest=None if row.digest is None else categories.Frequency(row.digest),
        last_error=row.last_error,
        sent_at=row.sent_at,
    )


@strawberry.federation.type(keys=["id"], description="A course of the catalogue.")
class Course:
    id: strawberry.ID


@strawberry.federation.type(keys=["id"], description="Something the platform told a user.")
class Notification:
    id: strawberry.ID
    category: NotificationCategory  # type: ignore[valid-type]
    title: str
    body: str
    data: JSON
    created_at: datetime
    read_at: datetime | None
    row: strawberry.Private[NotificationRow | LiveNotification]

    @strawberry.field
    def read(self) -> bool:
        return self.read_at is not None

    @strawberry.field
    def user(self) -> User | None:
        return User(id=graphql_id(self.row.user_id))

    @strawberry.field(description="The user who sent it; null for the platform's own.")
    def sender(self) -> User | None:
        return None if self.row.sender_id is None else User(id=graphql_id(self.row.sender_id))

    @strawberry.field
    def course(self) -> Course | None:
        return None if self.row.course_id is None else Course(id=graphql_id(self.row.course_id))

    @strawberry.field(description="Email, SMS and push deliveries (in-app is the notification).")
    async def deliveries(self, info: NotificationsInfo) -> list[Delivery]:
        return [delivery_of(row) for row in await info.context.loaders.deliveries.load(self.row.id)]

    @classmethod
    async def resolve_reference(
        cls, info: NotificationsInfo, id: strawberry.ID
    ) -> Notification | None:
        row = await own_notification(info, parse_id(id))
        return None if row is None else notification_of(row)


def notification_of(row: NotificationRow | LiveNotification) -> Notification:
    return Notification(
        id=graphql_id(row.id),
        category=categories.Category(row.category),
        title=row.title,
        body=row.body,
        data=JSON(row.data),
        created_at=row.created_at,
        read_at=row.read_at,
        row=row,
    )


@strawberry.type
class NotificationPreference:
    category: NotificationCategory  # type: ignore[valid-type]
    channel: NotificationChannel  # type: ignore[valid-type]
    frequency: NotificationFrequency  # type: ignore[valid-type]
    is_default: bool


@strawberry.type(description="Where a user is reached besides the app and email.")
class NotificationContact:
    phone: str | None
    push_token: str | None


@strawberry.federation.type(keys=["id"], description="A person using the platform.")
class User:
    id: strawberry.ID

    @strawberry.field(
        extensions=[signed_in()],
        description="This user's notifications, newest last (themself only).",
        directives=[PAGED],
    )
    async def notifications(
        self,
        info: NotificationsInfo,
        first: int | None = None,
        after: str | None = None,
        unread_only: bool = False,
        category: NotificationCategory | None = None,  # type: ignore[valid-type]
    ) -> Connection[Notification] | None:
        page = await info.context.service.notifications.of_user(
            info.context.require_principal(),
            parse_id(self.id),
            unread_only=unread_only,
            category=category,
            first=first,
            after=after,
        )
        return Connection.from_page(page, notification_of)

    @strawberry.field(extensions=[signed_in()], description="Unread notifications (themself only).")
    async def unread_notification_count(self, info: NotificationsInfo) -> int | None:
        principal = require_self(info, parse_id(self.id), "their unread count")
        return await info.context.loaders.unread.load(principal.user_id) or 0

    @strawberry.field(description="Per category and channel (themself and administrators).")
    async def notification_preferences(
        self, info: NotificationsInfo
    ) -> list[NotificationPreference] | None:
        rows = await info.context.service.notifications.preferences(
            info.context.require_principal(), parse_id(self.id)
        )
        return [
            NotificationPreference(
                category=category, channel=channel, frequency=frequency, is_default=default
            )
            for category, channel, frequency, default in rows
        ]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)


@strawberry.type
class NotificationTemplate:
    id: strawberry.ID
    category: NotificationCategory  # type: ignore[valid-type]
    channel: NotificationChannel  # type: ignore[valid-type]
    locale: str
    subject: str
    body: str
    html: bool
    updated_at: datetime


def template_of(row: TemplateRow) -> NotificationTemplate:
    return NotificationTemplate(
        id=graphql_id(row.id),
        category=categories.Category(row.category),
        channel=channel_values.Channel(row.channel),
        locale=row.locale,
        subject=row.subject,
        body=row.body,
        html=row.html,
        updated_at=row.updated_at,
    )


@strawberry.type
class Query:
    @strawberry.field(description="Your notifications, oldest first.", directives=[PAGED])
    async def notifications(
        self,
        info: NotificationsInfo,
        first: int | None = None,
        after: str | None = None,
        unread_only: bool = False,
        category: NotificationCategory | None = None,  # type: ignore[valid-type]
    ) -> Connection[Notification] | None:
        principal = info.context.require_principal()
        page = await info.context.service.notifications.of_user(
            principal,
            principal.user_id,
            unread_only=unread_only,
            category=category,
            first=first,
            after=after,
        )
        return Connection.from_page(page, notification_of)

    @strawberry.field(description="How many of your notifications are unread.")
    async def unread_notification_count(self, info: NotificationsInfo) -> int | None:
        return await info.context.loaders.unread.load(info.context.require_principal().user_id) or 0

    @strawberry.field(extensions=[signed_in()], description="One of your notifications.")
    async def notification(self, info: NotificationsInfo, id: strawberry.ID) -> Notification:
        info.context.require_principal()
        row = await own_notification(info, parse_id(id, field="id"))
        if row is None:
            raise NotFound(f"You have no notification with id {id}.", field="id")
        return notification_of(row)

    @strawberry.field(
        extensions=[signed_in()], description="Where you receive SMS and push notifications."
    )
    async def notification_contact(self, info: NotificationsInfo) -> NotificationContact:
        row = await info.context.service.notifications.contact(info.context.require_principal())
        return NotificationContact(
            phone=None if row is None else row.phone,
            push_token=None if row is None else row.push_token,
        )

    @strawberry.field(
        extensions=[scopes(["admin"])],
        description="Stored templates (administrators); others use built-ins.",
    )
    async def notification_templates(self, info: NotificationsInfo) -> list[NotificationTemplate]:
        rows = await info.context.service.notifications.templates(info.context.require_principal())
        return [template_of(row) for row in rows]


@strawberry.input(description="Recipients: userIds, or courseId (its active learners), or both.")
class SendNotificationInput:
    category: NotificationCategory  # type: ignore[valid-type]
    data: JSON = strawberry.field(
        description='Template variables, e.g. {"title": "Exam moved", "message": "…"}.'
    )
    user_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    course_id: strawberry.ID | None = None


@strawberry.type
class SendNotificationPayload:
    batch_id: strawberry.ID
    recipient_count: int


@strawberry.input
class MarkReadInput:
    id: strawberry.ID
    read: bool = True


@strawberry.input
class MarkAllReadInput:
    category: NotificationCategory | None = None  # type: ignore[valid-type]


@strawberry.input
class DeleteNotificationInput:
    id: strawberry.ID


@strawberry.input
class PreferenceInput:
    category: NotificationCategory  # type: ignore[valid-type]
    channel: NotificationChannel  # type: ignore[valid-type]
    frequency: NotificationFrequency  # type: ignore[valid-type]


@strawberry.input
class UpdatePreferencesInput:
    preferences: list[PreferenceInput]


@strawberry.input(description="Omit a field to keep it; an empty string removes it.")
class UpdateContactInput:
    phone: str | None = None
    push_token: str | None = None


@strawberry.input
class SaveTemplateInput:
    category: NotificationCategory  # type: ignore[valid-type]
    channel: NotificationChannel  # type: ignore[valid-type]
    locale: str
    subject: str
    body: str
    html: bool = False


@strawberry.type
class NotificationPayload:
    notification: Notification


@strawberry.type
class MarkAllReadPayload:
    updated: int


@strawberry.type
class DeletedPayload:
    deleted_id: strawberry.ID


@strawberry.type
class PreferencesPayload:
    user: User | None


@strawberry.type
class DigestPayload:
    messages_sent: int


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Notify users: an admin anyone, an instructor the learners of their course.",
    )
    async def send_notification(
        self, info: NotificationsInfo, input: SendNotificationInput
    ) -> SendNotificationPayload:
        principal = info.context.require_principal()
        course = None
        if input.course_id is not None:
            course_id = parse_id(input.course_id, field="courseId")
            course = await visible_course(info.context.loaders.course, course_id)
        if not isinstance(input.data, dict):
            raise BadUserInput("data must be a JSON object of template variables.", field="data")
        result = await info.context.service.notifications.send(
            principal,
            categories.Category(input.category),
            Audience([parse_id(i, field="userIds") for i in input.user_ids], course),
            input.data,
            authorization=info.context.request.headers.get("authorization"),
        )
        return SendNotificationPayload(
            batch_id=graphql_id(result.batch_id), recipient_count=result.recipients
        )

    @strawberry.mutation(
        extensions=[signed_in()],
        description="Mark one of your notifications read (or unread).",
    )
    async def mark_notification_read(
        self, info: NotificationsInfo, input: MarkReadInput
    ) -> NotificationPayload:
        row = await info.context.service.notifications.mark_read(
            info.context.require_principal(), parse_id(input.id, field="id"), input.read
        )
        return NotificationPayload(notification=notification_of(row))

    @strawberry.mutation(
        extensions=[signed_in()],
        description="Mark all your notifications (of a category) read.",
    )
    async def mark_all_notifications_read(
        self, info: NotificationsInfo, input: MarkAllReadInput | None = None
    ) -> MarkAllReadPayload:
        category = None if input is None else input.category
        updated = await info.context.service.notifications.mark_all_read(
            info.context.require_principal(), category
        )
        return MarkAllReadPayload(updated=updated)

    @strawberry.mutation(extensions=[signed_in()], description="Delete one of your notifications.")
    async def delete_notification(
        self, info: NotificationsInfo, input: DeleteNotificationInput
    ) -> DeletedPayload:
        notification_id = parse_id(input.id, field="id")
        await info.context.service.notifications.delete(
            info.context.require_principal(), notification_id
        )
        return DeletedPayload(deleted_id=input.id)

    @strawberry.mutation(
        extensions=[signed_in()],
        description="Choose how often each category reaches you on each channel.",
    )
    async def update_notification_preferences(
        self, info: NotificationsInfo, input: UpdatePreferencesInput
    ) -> PreferencesPayload:
        principal = info.context.require_principal()
        await info.context.service.notifications.update_preferences(
            principal,
            [
                PreferenceChange(
                    categories.Category(item.category),
                    channel_values.Channel(item.channel),
                    categories.Frequency(item.frequency),
                )
                for item in input.preferences
            ],
        )
        return PreferencesPayload(user=User(id=graphql_id(principal.user_id)))

    @strawberry.mutation(
        extensions=[signed_in()],
        description="Set the phone number and push device you are reached at.",
    )
    async def update_notification_contact(
        self, info: NotificationsInfo, input: UpdateContactInput
    ) -> NotificationContact:
        row = await info.context.service.notifications.update_contact(
            info.context.require_principal(), input.phone, input.push_token
        )
        return NotificationContact(phone=row.phone, push_token=row.push_token)

    @strawberry.mutation(
        extensions=[scopes(["admin"])],
        description="Write a category's template for a channel and locale (admin).",
    )
    async def save_notification_template(
        self, info: NotificationsInfo, input: SaveTemplateInput
    ) -> NotificationTemplate:
        row = await info.context.service.notifications.save_template(
            info.context.require_principal(),
            categories.Category(input.category),
            channel_values.Channel(input.channel),
            input.locale,
            input.subject,
            input.body,
            input.html,
        )
        return template_of(row)

    @strawberry.mutation(
        extensions=[scopes(["admin"])],
        description="Send a digest now instead of at its time (admin).",
    )
    async def send_notification_digests(
        self,
        info: NotificationsInfo,
        frequency: NotificationFrequency,  # type: ignore[valid-type]
    ) -> DigestPayload:
        require_admin(info, "run digests by hand")
        chosen = categories.Frequency(frequency)
        if chosen not in categories.DIGESTS:
            raise BadUserInput(
                "frequency must be DAILY_DIGEST or WEEKLY_DIGEST.", field="frequency"
            )
        sent = await info.context.service.dispatcher.run_digests(force=chosen)
        return DigestPayload(messages_sent=sent)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "Your notifications as they are created, optionally of one category. An "
            "EVENTS_MISSED error means some may have been missed (query notifications to "
            "catch up); the stream ends when the access token expires (UNAUTHENTICATED)."
        )
    )
    async def notification_added(
        self,
        info: NotificationsInfo,
        category: NotificationCategory | None = None,  # type: ignore[valid-type]
    ) -> AsyncGenerator[Notification, None]:
        principal = subscriber(info.context.principal, info.context.auth_error)
        if isinstance(principal, DomainError):
            yield principal  # type: ignore[misc]  # an error in place of the event
            return
        wanted = None if category is None else categories.Category(category).value
        async for event in info.context.service.live.follow(principal):
            if isinstance(event, DomainError):
                yield event  # type: ignore[misc]
            elif event.get("kind") == ADDED and wanted in (None, event["category"]):
                # The span is current while the event is delivered: its context goes to the
                # router with it (common/graphql/tracing.py).
                with tracing.span(
                    "subscription event notificationAdded",
                    kind=SpanKind.PRODUCER,
                    parent=event.get(TRACE_KEY),
                ):
                    yield notification_of(row_of(event))

    @strawberry.subscription(
        description=(
            "How many of your notifications are unread: the count now, then each new count. "
            "Ends when the access token expires (UNAUTHENTICATED)."
        )
    )
    async def unread_count_changed(self, info: NotificationsInfo) -> AsyncGenerator[int, None]:
        principal = subscriber(info.context.principal, info.context.auth_error)
        if isinstance(principal, DomainError):
            yield principal  # type: ignore[misc]
            return
        notifications = info.context.service.notifications
        live = info.context.service.live
        last = None
        listener = live.listen(principal)  # before the first count, so no change falls between
        events = live.follow(principal, listener)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SUBSCRIBE_WAIT_SECONDS):
                    await listener.subscribed.wait()
            while True:
                # Anything on the channel, a gap included, may change the count: count again.
                count = (await notifications.unread_counts([principal.user_id])).get(
                    principal.user_id, 0
                )
                if count != last:
                    last = count
                    yield count
                event = await anext(events, None)
                if event is None:
                    return
                if isinstance(event, DomainError) and not isinstance(event, EventsMissed):
                    yield event  # type: ignore[misc]
                    return  # the session ended: no count after it, not even one in flight
        finally:
            await events.aclose()
            listener.close()


schema = ServiceSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[User, Course, Notification],
)
