"""Cache invalidation fed by domain events: what each event makes stale, published on the
Redis channel the routers follow (`lms:cache:invalidate`), as the cache contract of issue 28
writes it:

    {"typename": "Course", "keys": [{"id": "<uuid>"}], "reason": "course.updated", "at": 1.5}

`keys` null: every cached entity of that type (and every root-field answer that held one).
The producing service's worker consumes these events and publishes in the handler, so a
failed publish is retried like any failed handler; a repeated message only drops an entry
twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from common.events.catalog import CATALOG
from common.events.consumer import Handler
from common.events.envelope import Event

CHANNEL = "lms:cache:invalidate"


@dataclass(frozen=True, slots=True)
class Invalidation:
    typename: str
    ids: tuple[str, ...] | None  # None: every entity of the type

    def message(self, reason: str, at: float) -> bytes:
        keys = None if self.ids is None else [{"id": item} for item in self.ids]
        return orjson.dumps({"typename": self.typename, "keys": keys, "reason": reason, "at": at})


def _one(typename: str, field: str) -> Callable[[Mapping[str, Any]], list[Invalidation]]:
    return lambda data: [Invalidation(typename, (str(data[field]),))]


def _every(typename: str) -> Callable[[Mapping[str, Any]], list[Invalidation]]:
    return lambda _: [Invalidation(typename, None)]


def _lesson(data: Mapping[str, Any]) -> list[Invalidation]:
    """The lesson; and its course when the outline changed (anything but the content)."""
    lesson = [Invalidation("Lesson", (str(data["lesson_id"]),))]
    if data["change"] == "content":
        return lesson
    return [*lesson, Invalidation("Course", (str(data["course_id"]),))]


# What each event makes stale. A course entering or leaving the catalogue changes its lists,
# which hold other courses too: every cached course goes.
STALE: Mapping[str, Callable[[Mapping[str, Any]], list[Invalidation]]] = {
    "course.updated": _one("Course", "course_id"),
    "course.published": _every("Course"),
    "course.unpublished": _every("Course"),
    "course.archived": _every("Course"),
    "module.changed": _one("Course", "course_id"),
    "lesson.changed": _lesson,
    "category.changed": _every("Category"),
    "user.updated": _one("User", "user_id"),
    "user.deleted": _one("User", "user_id"),
}


def invalidations(event: Event) -> list[Invalidation]:
    rule = STALE.get(event.type)
    return [] if rule is None else rule(event.data)


async def publish(redis: Redis, event: Event) -> None:
    at = event.occurred_at.timestamp()  # what was cached before the change is stale
    for invalidation in invalidations(event):
        await redis.publish(CHANNEL, invalidation.message(event.type, at))


def invalidating(
    service: str, handlers: Mapping[str, Handler], redis: Redis
) -> Mapping[str, Handler]:
    """`handlers`, and for each event `service` produces that makes cached answers stale,
    a handler (after any it had) that publishes what went stale."""
    stale = {spec.type for spec in CATALOG if spec.producer == service and spec.type in STALE}
    combined = dict(handlers)
    for event_type in stale:
        combined[event_type] = _then_publish(handlers.get(event_type), redis)
    return combined


def _then_publish(handler: Handler | None, redis: Redis) -> Handler:
    async def handle(session: AsyncSession, event: Event) -> None:
        if handler is not None:
            await handler(session, event)
        await publish(redis, event)

    return handle
