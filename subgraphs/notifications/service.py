"""Use cases of notifications: send (one, a list, a course), read, delete, preferences,
templates.

Sending renders the in-app text from the category's template for each recipient, stores
the notifications in batches, and queues a delivery per other channel the recipient's
preferences allow (now, or in a digest). Delivery itself happens in the background
(dispatcher.py). Who may send: an administrator to anyone; an instructor to the learners of
a course they teach, and to no one else.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.auth import Principal
from common.auth.principal import Role
from common.clock import now as _now  # notify() reads the clock by this name
from common.db.batches import rows_by_id, rows_grouped
from common.db.inserts import insert_missing
from common.db.pagination import Page, fetch_page
from common.errors import BadUserInput, Forbidden, NotFound
from common.events.consumer import AFTER_COMMIT
from common.graphql.catalog import CourseFacts
from common.telemetry import tracing
from subgraphs.notifications.categories import (
    DIGESTS,
    IN_APP_OPTIONAL,
    Category,
    DeliveryStatus,
    Frequency,
    Template,
    builtin_template,
    default_frequency,
)
from subgraphs.notifications.channels import Channel
from subgraphs.notifications.live import publish_added, publish_unread_changed
from subgraphs.notifications.models import (
    ContactRow,
    DeliveryRow,
    NotificationRow,
    PreferenceRow,
    TemplateRow,
)
from subgraphs.notifications.people import Directory, Person
from subgraphs.notifications.templates import check_template, render

BATCH = 500  # rows per INSERT
MAX_RECIPIENTS = 100_000
MAX_DATA_BYTES = 16 * 1024
DELIVERY_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PUSH)


@dataclass(frozen=True, slots=True)
class Audience:
    """Whom to send to: listed users, or every active learner of a course."""

    user_ids: Sequence[uuid.UUID] = ()
    course: CourseFacts | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    batch_id: uuid.UUID
    recipients: int
    notifications: list[NotificationRow]  # the first few, for the response


@dataclass(frozen=True, slots=True)
class PreferenceChange:
    category: Category
    channel: Channel
    frequency: Frequency


def _check_data(data: Mapping[str, Any]) -> dict[str, Any]:
    if len(json.dumps(data, default=str)) > MAX_DATA_BYTES:
        raise BadUserInput(f"data is at most {MAX_DATA_BYTES // 1024} KiB.", field="data")
    if any(not isinstance(key, str) or not key.isidentifier() for key in data):
        raise BadUserInput("data keys must be identifiers such as course_title.", field="data")
    return dict(data)


@dataclass(frozen=True, slots=True)
class _Send:
    """What every notification of one send shares."""

    batch_id: uuid.UUID
    category: Category
    data: dict[str, Any]
    sender_id: uuid.UUID | None
    course_id: uuid.UUID | None
    at: datetime


def _deliveries(
    rows: list[dict[str, Any]], preferences: Callable[[uuid.UUID, str], Frequency], at: datetime
) -> list[dict[str, Any]]:
    """The deliveries of these notifications on each other channel their recipient's
    preferences allow: due now, or gathered into a digest."""
    deliveries = []
    for row in rows:
        for channel in DELIVERY_CHANNELS:
            frequency = preferences(row["user_id"], channel.value)
            if frequency is Frequency.OFF:
                continue
            deliveries.append(
                {
                    "id": uuid.uuid4(),
                    "notification_id": row["id"],
                    "user_id": row["user_id"],
                    "channel": channel.value,
                    "status": DeliveryStatus.PENDING.value,
                    "digest": frequency.value if frequency in DIGESTS else None,
                    "next_attempt_at": at,
                    "created_at": at,
                }
            )
    return deliveries


class NotificationsService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        directory: Directory,
        *,
        platform_name: str,
        wake: Callable[[], None] = lambda: None,
        redis: Redis | None = None,
        batch_size: int = BATCH,
    ) -> None:
        self.sessions = sessions
        self.batch_size = batch_size  # recipients per transaction of a send
        self.directory = directory
        self.platform_name = platform_name
        self.wake = wake  # tells the dispatcher that deliveries are due
        self.redis = redis  # live pushes (subscriptions) after each commit

    # Sending

    async def send(
        self,
        principal: Principal,
        category: Category,
        audience: Audience,
        data: Mapping[str, Any],
        *,
        authorization: str | None,
    ) -> SendResult:
        recipients = await self._recipients(principal, audience, authorization)
        return await self.notify(
            recipients,
            category,
            _check_data(data),
            sender_id=principal.user_id,
            course_id=None if audience.course is None else audience.course.id,
            course_title=None if audience.course is None else audience.course.title,
        )

    async def _recipients(
        self, principal: Principal, audience: Audience, authorization: str | None
    ) -> list[uuid.UUID]:
        course = audience.course
        listed = list(dict.fromkeys(audience.user_ids))
        if len(listed) > MAX_RECIPIENTS:
            raise BadUserInput(f"Send to at most {MAX_RECIPIENTS} users at once.", field="userIds")
        if course is None:
            if not listed:
                raise BadUserInput("Name the recipients (userIds) or a courseId.", field="userIds")
            if not principal.is_admin:
                raise Forbidden(
                    "Only administrators send to any user; instructors send through a course "
                    "(give courseId)."
                )
            return listed
        if not (principal.is_admin or course.taught_by(principal.user_id)):
            raise Forbidden(
                "Only the course's instructors and administrators write to its learners."
            )
        learners = await self.directory.learners(course.id, authorization)
        if not listed:
            return learners
        outside = [str(user) for user in listed if user not in set(learners)]
        if outside and not principal.is_admin:
            raise Forbidden(
                f"These users are not learners of this course: {', '.join(outside[:20])}"
                + (" …" if len(outside) > 20 else "")
            )
        return listed

    async def notify(
        self,
        user_ids: Sequence[uuid.UUID],
        category: Category,
        data: dict[str, Any],
        *,
        sender_id: uuid.UUID | None = None,
        course_id: uuid.UUID | None = None,
        course_title: str | None = None,
        session: AsyncSession | None = None,
        skip_missing: bool = False,
        send_id: uuid.UUID | None = None,
    ) -> SendResult:
        """Store one notification per existing user and queue their deliveries. The
        templates are tried first, so a missing variable fails before anything is stored.

        Without `session`, the recipients are stored a chunk per transaction: a send to
        50,000 holds no long transaction, and other requests run between chunks. Such a send
        is resumable: each notification is keyed by its send (`send_id`, the batch id; a new
        one when omitted) and recipient, so a send that failed half-way is completed by
        calling again with the same `send_id`, and no one gets a notification or a delivery
        twice. With `session` (an event handler's), everything goes into that transaction,
        applied with the event or not at all."""
        recipients = await self._existing(user_ids, skip_missing=skip_missing)
        batch_id = send_id or uuid.uuid4()
        if not recipients:
            return SendResult(batch_id, 0, [])
        if course_title is not None:
            data = {"course_title": course_title, **data}
        async with self.sessions() as reading:
            templates = await self._templates(reading, category)
            preferences = await self._preferences(
                reading, [person.id for person in recipients], category
            )
        # where a category's in-app notifications may be turned off, those who did get none
        recipients = [
            person
            for person in recipients
            if preferences(person.id, Channel.IN_APP.value) is not Frequency.OFF
        ]
        if not recipients:
            return SendResult(batch_id, 0, [])
        self._try_templates(templates, recipients[0], data)
        send = _Send(batch_id, category, data, sender_id, course_id, _now())
        created: list[NotificationRow] = []
        for start in range(0, len(recipients), self.batch_size):
            rows = [
                self._notification(send, templates, person)
                for person in recipients[start : start + self.batch_size]
            ]
            stored = await self._store(rows, _deliveries(rows, preferences, send.at), session)
            if len(created) < 50:
                created.extend(NotificationRow(**row) for row in stored[: 50 - len(created)])
            self.wake()
            await asyncio.sleep(0)  # let other requests in between batches
        return SendResult(batch_id, len(recipients), created)

    async def _existing(self, user_ids: Sequence[uuid.UUID], *, skip_missing: bool) -> list[Person]:
        """The recipients that exist, once each, in order: NOT_FOUND naming the others,
        unless they are to be skipped."""
        people = await self.directory.people(user_ids)
        missing = [str(user) for user in user_ids if user not in people]
        if missing and not skip_missing:
            raise NotFound(f"No users have these ids: {', '.join(missing[:20])}", field="userIds")
        return [people[user] for user in dict.fromkeys(user_ids) if user in people]

    def _try_templates(
        self, templates: Callable[[str, str], Template], person: Person, data: dict[str, Any]
    ) -> None:
        """Render every channel's template for one recipient: a missing variable or a broken
        template fails the send clearly, before anything is stored."""
        sample = self._variables(person, data)
        in_app = templates(Channel.IN_APP.value, person.locale)
        sample["title"] = render(in_app.subject, sample)
        sample["body"] = render(in_app.body, sample)
        for channel in DELIVERY_CHANNELS:
            template = templates(channel.value, person.locale)
            render(template.subject, sample)
            render(template.body, sample, html=template.html)

    def _notification(
        self, send: _Send, templates: Callable[[str, str], Template], person: Person
    ) -> dict[str, Any]:
        """The row of one recipient's in-app notification, rendered in their locale."""
        variables = self._variables(person, send.data)
        template = templates(Channel.IN_APP.value, person.locale)
        return {
            "id": uuid.uuid4(),
            "user_id": person.id,
            "category": send.category.value,
            "title": render(template.subject, variables)[:300],
            "body": render(template.body, variables),
            "data": send.data,
            "sender_id": send.sender_id,
            "course_id": send.course_id,
            "batch_id": send.batch_id,
            "created_at": send.at,
        }

    async def _store(
        self,
        rows: list[dict[str, Any]],
        deliveries: list[dict[str, Any]],
        session: AsyncSession | None,
    ) -> list[dict[str, Any]]:
        """Insert the notifications of `rows` this send has not stored yet, with their
        deliveries, in `session` or a transaction of their own; pushed to live subscribers
        once committed. The rows inserted."""
        async with contextlib.AsyncExitStack() as stack:
            target = session
            if target is None:
                target = await stack.enter_async_context(self.sessions.begin())
            inserted = await insert_missing(
                target, NotificationRow.id, rows, key=["batch_id", "user_id"]
            )
            fresh = [row for row in rows if row["id"] in inserted]
            due = [item for item in deliveries if item["notification_id"] in inserted]
            if due:
                await target.execute(insert(DeliveryRow), due)
        push = functools.partial(publish_added, self.redis, fresh)
        if session is None:
            await push()  # committed above
        else:  # an event handler's transaction: push once the consumer commits it
            session.info.setdefault(AFTER_COMMIT, []).append(tracing.continued(push))
        return fresh

    def _variables(self, person: Person, data: Mapping[str, Any]) -> dict[str, Any]:
        return {**data, "recipient_name": person.name, "platform_name": self.platform_name}

    async def _templates(
        self, session: AsyncSession, category: Category
    ) -> Callable[[str, str], Template]:
        rows = await session.scalars(select(TemplateRow).where(TemplateRow.category == category))
        stored = {(row.channel, row.locale): row for row in rows}

        def choose(channel: str, locale: str) -> Template:
            for candidate in (locale, locale.split("-")[0], "en"):
                row = stored.get((channel, candidate))
                if row is not None:
                    return Template(row.subject, row.body, row.html)
            return builtin_template(category, channel)

        return choose

    async def _preferences(
        self, session: AsyncSession, user_ids: list[uuid.UUID], category: Category
    ) -> Callable[[uuid.UUID, str], Frequency]:
        stored: dict[tuple[uuid.UUID, str], Frequency] = {}
        for start in range(0, len(user_ids), 5000):
            rows = await session.scalars(
                select(PreferenceRow).where(
                    PreferenceRow.user_id.in_(user_ids[start : start + 5000]),
                    PreferenceRow.category == category,
                )
            )
            stored.update({(row.user_id, row.channel): Frequency(row.frequency) for row in rows})

        def frequency(user_id: uuid.UUID, channel: str) -> Frequency:
            return stored.get((user_id, channel), default_frequency(category, channel))

        return frequency

    # Reading and managing one's own

    async def of_user(
        self,
        principal: Principal,
        user_id: uuid.UUID,
        *,
        unread_only: bool,
        category: Category | None,
        first: int | None,
        after: str | None,
    ) -> Page[NotificationRow]:
        if principal.user_id != user_id:
            raise Forbidden("Notifications are read only by their recipient.")
        query = select(NotificationRow).where(NotificationRow.user_id == user_id)
        if unread_only:
            query = query.where(NotificationRow.read_at.is_(None))
        if category is not None:
            query = query.where(NotificationRow.category == category.value)
        async with self.sessions() as session:
            return await fetch_page(
                session,
                query,
                created_at=NotificationRow.created_at,
                row_id=NotificationRow.id,
                first=first,
                after=after,
            )

    async def unread_counts(self, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(NotificationRow.user_id, func.count())
                .where(NotificationRow.user_id.in_(user_ids), NotificationRow.read_at.is_(None))
                .group_by(NotificationRow.user_id)
            )
            return dict(rows.all())

    async def by_ids(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, NotificationRow]:
        return await rows_by_id(self.sessions, NotificationRow, ids)

    async def deliveries_of(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[DeliveryRow]]:
        return await rows_grouped(
            self.sessions, DeliveryRow, DeliveryRow.notification_id, ids, DeliveryRow.channel
        )

    async def _own(
        self, session: AsyncSession, principal: Principal, notification_id: uuid.UUID
    ) -> NotificationRow:
        row = await session.get(NotificationRow, notification_id, with_for_update=True)
        if row is None or row.user_id != principal.user_id:
            raise NotFound(f"You have no notification with id {notification_id}.", field="id")
        return row

    async def mark_read(
        self, principal: Principal, notification_id: uuid.UUID, read: bool = True
    ) -> NotificationRow:
        async with self.sessions.begin() as session:
            row = await self._own(session, principal, notification_id)
            changed = (row.read_at is None) == read
            row.read_at = (row.read_at or _now()) if read else None
        if changed:
            await publish_unread_changed(self.redis, principal.user_id)
        return row

    async def mark_all_read(self, principal: Principal, category: Category | None) -> int:
        async with self.sessions.begin() as session:
            query = update(NotificationRow).where(
                NotificationRow.user_id == principal.user_id, NotificationRow.read_at.is_(None)
            )
            if category is not None:
                query = query.where(NotificationRow.category == category.value)
            result = await session.execute(query.values(read_at=_now()))
            marked = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if marked:
            await publish_unread_changed(self.redis, principal.user_id)
        return marked

    async def delete(self, principal: Principal, notification_id: uuid.UUID) -> None:
        async with self.sessions.begin() as session:
            row = await self._own(session, principal, notification_id)
            unread = row.read_at is None
            await session.delete(row)
        if unread:
            await publish_unread_changed(self.redis, principal.user_id)

    # Preferences and contacts

    async def preferences(
        self, principal: Principal, user_id: uuid.UUID
    ) -> list[tuple[Category, Channel, Frequency, bool]]:
        """Every category and channel with its frequency, and whether it is the default."""
        if not principal.is_self_or_admin(user_id):
            raise Forbidden("Preferences are seen by their user and administrators.")
        async with self.sessions() as session:
            rows = await session.scalars(
                select(PreferenceRow).where(PreferenceRow.user_id == user_id)
            )
            stored = {(row.category, row.channel): Frequency(row.frequency) for row in rows}
        result = []
        for category in Category:
            for channel in (Channel.IN_APP, *DELIVERY_CHANNELS):
                chosen = stored.get((category.value, channel.value))
                default = default_frequency(category, channel.value)
                result.append((category, channel, chosen or default, chosen is None))
        return result

    async def update_preferences(
        self, principal: Principal, changes: Sequence[PreferenceChange]
    ) -> None:
        if len(changes) > 200:
            raise BadUserInput("Change at most 200 preferences at once.", field="preferences")
        for change in changes:
            if (
                change.channel is Channel.IN_APP
                and change.frequency is not Frequency.IMMEDIATE
                and not (change.category in IN_APP_OPTIONAL and change.frequency is Frequency.OFF)
            ):
                raise BadUserInput(
                    "In-app notifications are always kept (those of "
                    + ", ".join(sorted(IN_APP_OPTIONAL))
                    + " may be turned OFF); only other channels can change.",
                    field="preferences",
                )
        if not changes:
            return
        async with self.sessions.begin() as session:
            statement = pg_insert(PreferenceRow).values(
                [
                    {
                        "user_id": principal.user_id,
                        "category": change.category.value,
                        "channel": change.channel.value,
                        "frequency": change.frequency.value,
                        "updated_at": _now(),
                    }
                    for change in changes
                ]
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["user_id", "category", "channel"],
                    set_={
                        "frequency": statement.excluded.frequency,
                        "updated_at": statement.excluded.updated_at,
                    },
                )
            )

    async def contact(self, principal: Principal) -> ContactRow | None:
        async with self.sessions() as session:
            return await session.get(ContactRow, principal.user_id)

    async def update_contact(
        self, principal: Principal, phone: str | None, push_token: str | None
    ) -> ContactRow:
        if phone is not None and phone and not _is_e164(phone):
            raise BadUserInput("phone must be in E.164 form, e.g. +442071838750.", field="phone")
        if push_token is not None and len(push_token) > 500:
            raise BadUserInput("pushToken is at most 500 characters.", field="pushToken")
        async with self.sessions.begin() as session:
            row = await session.get(ContactRow, principal.user_id, with_for_update=True)
            if row is None:
                row = ContactRow(user_id=principal.user_id)
                session.add(row)
            if phone is not None:
                row.phone = phone or None
            if push_token is not None:
                row.push_token = push_token or None
            row.updated_at = _now()
            return row

    # Templates (administrators)

    async def save_template(
        self,
        principal: Principal,
        category: Category,
        channel: Channel,
        locale: str,
        subject: str,
        body: str,
        html: bool,
    ) -> TemplateRow:
        if Role.ADMIN not in principal.roles:
            raise Forbidden("Only administrators edit notification templates.")
        if not locale or len(locale) > 35 or not all(part.isalnum() for part in locale.split("-")):
            raise BadUserInput("locale must be a language tag such as en or pt-BR.", field="locale")
        check_template(subject)
        check_template(body)
        async with self.sessions.begin() as session:
            statement = pg_insert(TemplateRow).values(
                category=category.value,
                channel=channel.value,
                locale=locale,
                subject=subject,
                body=body,
                html=html,
                updated_by=principal.user_id,
                updated_at=_now(),
            )
            upsert = statement.on_conflict_do_update(
                index_elements=["category", "channel", "locale"],
                set_={
                    "subject": statement.excluded.subject,
                    "body": statement.excluded.body,
                    "html": statement.excluded.html,
                    "updated_by": statement.excluded.updated_by,
                    "updated_at": statement.excluded.updated_at,
                },
            ).returning(TemplateRow)
            return (await session.scalars(upsert)).one()

    async def templates(self, principal: Principal) -> list[TemplateRow]:
        if Role.ADMIN not in principal.roles:
            raise Forbidden("Only administrators see notification templates.")
        async with self.sessions() as session:
            rows = await session.scalars(
                select(TemplateRow).order_by(
                    TemplateRow.category, TemplateRow.channel, TemplateRow.locale
                )
            )
            return list(rows)

    async def delete_template(self, principal: Principal, template_id: uuid.UUID) -> None:
        if Role.ADMIN not in principal.roles:
            raise Forbidden("Only administrators edit notification templates.")
        async with self.sessions.begin() as session:
            result = await session.execute(delete(TemplateRow).where(TemplateRow.id == template_id))
            if not result.rowcount:  # type: ignore[attr-defined]
                raise NotFound(f"No template has id {template_id}.", field="id")


def _is_e164(phone: str) -> bool:
    return phone.startswith("+") and phone[1:].isdigit() and 8 <= len(phone) <= 16
