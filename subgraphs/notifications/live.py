"""Live notification events: what is published on Redis once a change commits, and the
stream one subscriber reads back from the process's shared Redis subscription.

Each user has one channel. Two kinds of message travel on it: a new notification (all of
its fields, so that a subscriber needs no query to show it) and "the unread count may have
changed" (a notification was read, unread, deleted, or all were marked read).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncGenerator, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from common.auth import Principal
from common.auth.revocations import ENDED, RevocationList
from common.errors import DomainError, EventsMissed, Forbidden, Unauthenticated
from common.realtime import Gap, Listener, PubSubHub, SlowListener, publish_all

log = logging.getLogger(__name__)

ADDED: Final = "added"
UNREAD_CHANGED: Final = "unread"
# How long a subscription waits for Redis to confirm its channel before it counts anyway.
SUBSCRIBE_WAIT_SECONDS: Final = 2.0

# Where a burst's messages go, one Redis message per batch (common/realtime.py); the hub of
# every notifications process reads it.
BATCHES: Final = "notifications:batches"

SESSION_ENDED: Final = object()  # offered to a listener whose token was revoked


def user_channel(user_id: uuid.UUID) -> str:
    """The Redis channel of one user's live notification events."""
    return f"notifications:user:{user_id}"


def _optional_id(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def added_message(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": ADDED,
        "id": str(row["id"]),
        "userId": str(row["user_id"]),
        "category": row["category"],
        "title": row["title"],
        "body": row["body"],
        "data": row["data"],
        "senderId": _optional_id(row.get("sender_id")),
        "courseId": _optional_id(row.get("course_id")),
        "createdAt": row["created_at"].isoformat(),
    }


@dataclass(frozen=True, slots=True)
class LiveNotification:
    """A notification as a live event announces it: the fields a `Notification` reads from
    its row, as plain values. Not a `NotificationRow`: building an ORM object (attribute
    instrumentation, instance state) cost more than the rest of delivering the event."""

    id: uuid.UUID
    user_id: uuid.UUID
    category: str
    title: str
    body: str
    data: Any
    sender_id: uuid.UUID | None
    course_id: uuid.UUID | None
    created_at: datetime
    read_at: datetime | None = None  # new: unread


def row_of(message: Mapping[str, Any]) -> LiveNotification:
    """The notification a message announces."""

    def optional(name: str) -> uuid.UUID | None:
        value = message.get(name)
        return None if value is None else uuid.UUID(value)

    return LiveNotification(
        id=uuid.UUID(message["id"]),
        user_id=uuid.UUID(message["userId"]),
        category=message["category"],
        title=message["title"],
        body=message["body"],
        data=message["data"],
        sender_id=optional("senderId"),
        course_id=optional("courseId"),
        created_at=datetime.fromisoformat(message["createdAt"]),
    )


async def publish_added(redis: Redis | None, rows: Iterable[Mapping[str, Any]]) -> None:
    if redis is not None:
        await publish_all(
            redis,
            [(user_channel(row["user_id"]), added_message(row)) for row in rows],
            batches=BATCHES,
        )


async def publish_unread_changed(redis: Redis | None, user_id: uuid.UUID) -> None:
    if redis is not None:
        await publish_all(redis, [(user_channel(user_id), {"kind": UNREAD_CHANGED})])


class LiveFeed:
    """One user's events for as long as their token lasts, read from the process's hub."""

    def __init__(self, hub: PubSubHub, revocations: RevocationList | None = None) -> None:
        self.hub = hub
        self._revocations = revocations

    def listen(self, principal: Principal) -> Listener:
        """Start listening now (`follow` otherwise starts at its first item); the listener's
        `subscribed` event says when Redis delivers to it."""
        return self.hub.listen(user_channel(principal.user_id))

    async def follow(
        self, principal: Principal, listener: Listener | None = None
    ) -> AsyncGenerator[dict[str, Any] | DomainError, None]:
        """The principal's messages, and errors to show the subscriber: EVENTS_MISSED when
        Redis was lost for a while (the stream goes on), and, ending the stream, when the
        subscriber fell behind or the access token expired."""
        if listener is None:
            listener = self.listen(principal)
        watching = listener  # the revocation callback offers into this listener
        unwatch = (
            self._revocations.watch(principal.token_claims, lambda: watching.offer(SESSION_ENDED))
            if self._revocations is not None
            else None
        )
        try:
            while True:
                remaining = None
                if principal.expires_at is not None:
                    remaining = principal.expires_at - time.time()
                    if remaining <= 0:
                        yield Unauthenticated(
                            "The access token has expired: subscribe again with a fresh one."
                        )
                        return
                try:
                    async with asyncio.timeout(remaining):
                        item = await listener.receive()
                except TimeoutError:
                    continue
                except SlowListener:
                    yield EventsMissed(
                        "This subscription fell behind and was ended: "
                        "query your notifications to catch up, then subscribe again."
                    )
                    return
                if item is None:  # the service is stopping
                    return
                if item is SESSION_ENDED:  # signed out everywhere, deleted...
                    yield Unauthenticated(f"{ENDED} Subscribe again with a fresh token.")
                    return
                if isinstance(item, Gap):
                    yield EventsMissed(
                        "The live feed was interrupted and notifications may have been "
                        "missed: query your notifications to catch up."
                    )
                else:
                    yield item
        finally:
            if unwatch is not None:
                unwatch()
            listener.close()

    async def run(self) -> None:
        """Held for the service's lifespan: closes the hub (and its Redis connection) at the end."""
        try:
            await asyncio.Event().wait()
        finally:
            try:
                await self.hub.close()
            except (RedisError, OSError) as error:
                log.warning("live feed: closing the Redis hub failed", extra={"error": repr(error)})


def subscriber(
    principal: Principal | None, error: Unauthenticated | None
) -> Principal | DomainError:
    """The subscribing user, or the error to send them instead of a stream."""
    if error is not None:
        return error
    if principal is None:
        return Unauthenticated("Sign in first: subscriptions need an access token.")
    if principal.is_service:
        return Forbidden("A service's token is not accepted here.")
    return principal
