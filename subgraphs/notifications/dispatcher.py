"""Delivering queued notifications in the background, and the digest job.

The dispatcher claims due deliveries with FOR UPDATE SKIP LOCKED (so several processes
share the work without sending anything twice), leases them for a while, sends each through
its channel's sender, and records the outcome: SENT; SKIPPED when the user has no address
for the channel or no provider is configured; FAILED when the provider refuses for good or
the retries run out; otherwise PENDING again after a backoff delay. An e-mail to an address
its owner has not verified waits, PENDING, until they do (user.email_verified releases it,
subgraphs/notifications/events.py), and is SKIPPED if they never do within UNVERIFIED_WAIT.

The digest job, once a day or week, gathers each user's deliveries waiting for that digest
into one message per channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from common import clock
from common.cancellation import stop_if_cancelled
from common.telemetry.metrics import notification_delivery
from subgraphs.notifications.categories import (
    DIGEST_PERIOD_HOURS,
    DIGEST_TEMPLATE,
    Category,
    DeliveryStatus,
    Frequency,
    Template,
    builtin_template,
)
from subgraphs.notifications.channels import Channel, DeliveryFailed, Outgoing, Sender
from subgraphs.notifications.models import (
    ContactRow,
    DeliveryRow,
    DigestRunRow,
    NotificationRow,
    TemplateRow,
)
from subgraphs.notifications.people import Directory, Person
from subgraphs.notifications.retry import RetryPolicy
from subgraphs.notifications.templates import TemplateProblem, render

log = logging.getLogger(__name__)

SERVICE = "notifications"  # the label of its delivery metrics
RETRYING = "RETRYING"  # a delivery's state in the metrics while it waits for another try
CLAIM = 50
SKIP_CLAIM = 1000  # deliveries without a provider settled in one statement
LEASE = timedelta(minutes=2)
UNVERIFIED_RECHECK = timedelta(hours=1)  # an e-mail to an unverified address looks again
UNVERIFIED_WAIT = timedelta(days=7)  # then gives up


@dataclass(frozen=True, slots=True)
class _Job:
    delivery_id: uuid.UUID
    notification: NotificationRow
    channel: Channel
    attempts: int


class Dispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        directory: Directory,
        senders: Mapping[Channel, Sender],
        *,
        platform_name: str,
        retry: RetryPolicy | None = None,
        poll_seconds: float = 1.0,
        engine: AsyncEngine | None = None,
    ) -> None:
        self.sessions = sessions
        self.directory = directory
        self.senders = senders
        self.platform_name = platform_name
        self.retry = retry or RetryPolicy()
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._engine = engine  # disposed when run() ends

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled; digests are checked on every round."""
        try:
            while True:
                try:
                    while await self.deliver_due():
                        pass
                    await self.run_digests()
                except asyncio.CancelledError:
                    raise
                except Exception:  # a database blip must not end delivery for good
                    stop_if_cancelled()
                    log.exception("notification dispatch round failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                self._wake.clear()
        finally:
            if self._engine is not None:
                await self._engine.dispose()

    # Immediate deliveries

    async def deliver_due(self) -> int:
        """Claim and send one round of due deliveries; returns how many were claimed."""
        now = clock.now()
        due = (
            DeliveryRow.status == DeliveryStatus.PENDING.value,
            DeliveryRow.digest.is_(None),
            DeliveryRow.next_attempt_at <= now,
        )
        async with self.sessions.begin() as session:
            skipped = await self._skip_unsendable(session, due)
            if not self.senders:  # nothing else to claim
                return skipped
            deliveries = list(
                await session.scalars(
                    select(DeliveryRow)
                    .where(*due, DeliveryRow.channel.in_([c.value for c in self.senders]))
                    .order_by(DeliveryRow.next_attempt_at)
                    .limit(CLAIM)
                    .with_for_update(skip_locked=True)
                )
            )
            if not deliveries:
                return skipped
            claimed = skipped + len(deliveries)
            for delivery in deliveries:
                delivery.next_attempt_at = now + LEASE
            notifications = {
                row.id: row
                for row in await session.scalars(
                    select(NotificationRow).where(
                        NotificationRow.id.in_([d.notification_id for d in deliveries])
                    )
                )
            }
            jobs = [
                _Job(d.id, notifications[d.notification_id], Channel(d.channel), d.attempts)
                for d in deliveries
            ]
        people = await self.directory.people([job.notification.user_id for job in jobs])
        contacts = await self._contacts([job.notification.user_id for job in jobs])
        await asyncio.gather(*(self._deliver(job, people, contacts) for job in jobs))
        return claimed

    async def _skip_unsendable(
        self, session: AsyncSession, due: tuple[ColumnElement[bool], ...]
    ) -> int:
        """Settle up to SKIP_CLAIM due deliveries of channels without a provider as SKIPPED,
        in one statement: a course announcement to thousands leaves a thousand emails to
        settle without SMTP, and loading them as ORM rows to update them one by one cost
        the process more CPU than fanning the announcement out to live subscribers, on the
        same event loop. The number settled."""
        unsendable = [channel.value for channel in Channel if channel not in self.senders]
        if not unsendable:
            return 0
        claim = (
            select(DeliveryRow.id)
            .where(*due, DeliveryRow.channel.in_(unsendable))
            .order_by(DeliveryRow.next_attempt_at)
            .limit(SKIP_CLAIM)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        channels = list(
            await session.scalars(
                update(DeliveryRow)
                .where(DeliveryRow.id.in_(claim))
                .values(
                    status=DeliveryStatus.SKIPPED.value,
                    last_error="No " + DeliveryRow.channel + " provider is set up.",
                )
                .returning(DeliveryRow.channel)
                .execution_options(synchronize_session=False)
            )
        )
        for channel, settled in Counter(channels).items():
            notification_delivery(SERVICE, channel, DeliveryStatus.SKIPPED.value, settled)
        return len(channels)

    async def _contacts(self, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, ContactRow]:
        async with self.sessions() as session:
            rows = await session.scalars(select(ContactRow).where(ContactRow.user_id.in_(user_ids)))
            return {row.user_id: row for row in rows}

    def _address(
        self, channel: Channel, person: Person | None, contact: ContactRow | None
    ) -> str | None:
        if person is None:
            return None
        if channel is Channel.EMAIL:
            return person.email if person.email_verified else None
        if channel is Channel.SMS:
            return None if contact is None else contact.phone
        return None if contact is None else contact.push_token

    async def _deliver(
        self,
        job: _Job,
        people: Mapping[uuid.UUID, Person],
        contacts: Mapping[uuid.UUID, ContactRow],
    ) -> None:
        notification = job.notification
        person = people.get(notification.user_id)
        sender = self.senders.get(job.channel)
        address = self._address(job.channel, person, contacts.get(notification.user_id))
        if sender is None:
            await self._finish(job, DeliveryStatus.SKIPPED, f"No {job.channel} provider is set up.")
            return
        if person is not None and job.channel is Channel.EMAIL and not person.email_verified:
            await self._wait_for_verification(job)
            return
        if person is None or not address:
            await self._finish(job, DeliveryStatus.SKIPPED, f"No {job.channel} address on file.")
            return
        try:
            template = await self._template(notification.category, job.channel, person.locale)
            variables = {
                **notification.data,
                "recipient_name": person.name,
                "platform_name": self.platform_name,
                "title": notification.title,
                "body": notification.body,
            }
            message = Outgoing(
                notification_id=notification.id,
                channel=job.channel,
                address=address,
                subject=render(template.subject, variables),
                text=render(template.body, variables),
                html=render(template.body, variables, html=True) if template.html else None,
                data={"category": notification.category, **notification.data},
            )
        except TemplateProblem as problem:
            await self._finish(job, DeliveryStatus.FAILED, problem.message)
            return
        await self._send(job, sender, message)

    async def _send(self, job: _Job, sender: Sender, message: Outgoing) -> None:
        attempt = job.attempts + 1
        try:
            provider_id = await sender.send(message)
        except DeliveryFailed as failure:
            if failure.permanent or self.retry.gives_up(attempt):
                reason = (
                    failure.reason
                    if failure.permanent
                    else f"{failure.reason} (gave up after {attempt} attempts)"
                )
                await self._finish(job, DeliveryStatus.FAILED, reason, attempts=attempt)
            else:
                await self._retry_later(job, failure.reason, attempt)
            return
        await self._finish(
            job, DeliveryStatus.SENT, None, attempts=attempt, provider_id=provider_id
        )

    async def _template(self, category: str, channel: Channel, locale: str) -> Template:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(TemplateRow).where(
                    TemplateRow.category == category, TemplateRow.channel == channel.value
                )
            )
            stored = {row.locale: row for row in rows}
        for candidate in (locale, locale.split("-")[0], "en"):
            row = stored.get(candidate)
            if row is not None:
                return Template(row.subject, row.body, row.html)
        return builtin_template(Category(category), channel.value)

    async def _finish(
        self,
        job: _Job,
        status: DeliveryStatus,
        reason: str | None,
        *,
        attempts: int | None = None,
        provider_id: str | None = None,
    ) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == job.delivery_id)
                .values(
                    status=status.value,
                    last_error=reason,
                    attempts=job.attempts if attempts is None else attempts,
                    provider_id=provider_id,
                    sent_at=clock.now() if status is DeliveryStatus.SENT else None,
                )
            )
        notification_delivery(SERVICE, job.channel.value, status.value)

    async def _wait_for_verification(self, job: _Job) -> None:
        """Hold an e-mail to an unverified address (no attempt counted), or give it up."""
        if clock.now() - job.notification.created_at > UNVERIFIED_WAIT:
            await self._finish(
                job, DeliveryStatus.SKIPPED, "The e-mail address was never verified."
            )
            return
        async with self.sessions.begin() as session:
            await session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == job.delivery_id)
                .values(
                    last_error="Waiting for the e-mail address to be verified.",
                    next_attempt_at=clock.now() + UNVERIFIED_RECHECK,
                )
            )

    async def _retry_later(self, job: _Job, reason: str, attempt: int) -> None:
        delay = timedelta(seconds=self.retry.delay(attempt))
        async with self.sessions.begin() as session:
            await session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == job.delivery_id)
                .values(attempts=attempt, last_error=reason, next_attempt_at=clock.now() + delay)
            )
        notification_delivery(SERVICE, job.channel.value, RETRYING)
        log.info(
            "delivery will be retried",
            extra={"notification_id": str(job.notification.id), "attempt": attempt},
        )

    # Digests

    async def run_digests(self, *, force: Frequency | None = None) -> int:
        """Send the digests that are due (or `force` one now); returns messages sent."""
        sent = 0
        for frequency, hours in DIGEST_PERIOD_HOURS.items():
            if force is not None and frequency is not force:
                continue
            if force is None and not await self._digest_due(frequency, hours):
                continue
            sent += await self._send_digest(frequency)
        return sent

    async def _digest_due(self, frequency: Frequency, hours: int) -> bool:
        """Claims the run: true once per period across processes."""
        now = clock.now()
        async with self.sessions.begin() as session:
            row = await session.get(DigestRunRow, frequency.value, with_for_update=True)
            if row is None:
                session.add(DigestRunRow(frequency=frequency.value, last_run_at=now))
                return False  # the first period starts now
            if now - row.last_run_at < timedelta(hours=hours):
                return False
            row.last_run_at = now
            return True

    async def _send_digest(self, frequency: Frequency) -> int:
        async with self.sessions.begin() as session:
            pending = list(
                await session.scalars(
                    select(DeliveryRow)
                    .where(
                        DeliveryRow.status == DeliveryStatus.PENDING.value,
                        DeliveryRow.digest == frequency.value,
                    )
                    .with_for_update(skip_locked=True)
                )
            )
            if not pending:
                return 0
            notifications = {
                row.id: row
                for row in await session.scalars(
                    select(NotificationRow).where(
                        NotificationRow.id.in_([d.notification_id for d in pending])
                    )
                )
            }
            groups: dict[tuple[uuid.UUID, str], list[DeliveryRow]] = {}
            for delivery in pending:
                groups.setdefault((delivery.user_id, delivery.channel), []).append(delivery)
            people = await self.directory.people(list({user for user, _ in groups}))
            contacts = await self._contacts(list({user for user, _ in groups}))
            sent = 0
            period = "daily" if frequency is Frequency.DAILY_DIGEST else "weekly"
            for (user_id, channel_name), deliveries in groups.items():
                channel = Channel(channel_name)
                person, sender = people.get(user_id), self.senders.get(channel)
                address = self._address(channel, person, contacts.get(user_id))
                status: DeliveryStatus = DeliveryStatus.SKIPPED
                reason: str | None = "No address or provider."
                provider_id: str | None = None
                if person is not None and sender is not None and address:
                    items = [notifications[d.notification_id] for d in deliveries]
                    variables = {
                        "recipient_name": person.name,
                        "platform_name": self.platform_name,
                        "period": period,
                        "items": [{"title": n.title, "body": n.body} for n in items],
                    }
                    message = Outgoing(
                        notification_id=deliveries[0].notification_id,
                        channel=channel,
                        address=address,
                        subject=render(DIGEST_TEMPLATE.subject, variables),
                        text=render(DIGEST_TEMPLATE.body, variables),
                        data={"digest": frequency.value, "count": len(items)},
                    )
                    try:
                        provider_id = await sender.send(message)
                        status, reason = DeliveryStatus.SENT, None
                        sent += 1
                    except DeliveryFailed as failure:
                        status, reason = DeliveryStatus.FAILED, failure.reason
                notification_delivery(SERVICE, channel.value, status.value, len(deliveries))
                for delivery in deliveries:
                    delivery.status = status.value
                    delivery.last_error = reason
                    delivery.attempts += 1
                    delivery.provider_id = provider_id
                    delivery.sent_at = clock.now() if status is DeliveryStatus.SENT else None
            return sent


async def release_held_emails(session: AsyncSession, user_id: uuid.UUID) -> None:
    """The user's address is verified: the e-mails held for it are due now."""
    await session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.user_id == user_id,
            DeliveryRow.channel == Channel.EMAIL.value,
            DeliveryRow.status == DeliveryStatus.PENDING.value,
            DeliveryRow.digest.is_(None),
        )
        .values(next_attempt_at=clock.now())
    )
