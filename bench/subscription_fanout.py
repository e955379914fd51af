"""CPU per event of the notifications subgraph's `notificationAdded` stream, in process:
what one subscriber costs the subgraph for each event, from the Redis message (already
decoded, as the hub hands it over) to the `next` message's JSON text, through the real
schema, resolvers and extensions (no sockets, no database).

One subscription of one event runs before the measured rounds, so that the query text has
been accepted (what a running subgraph's first subscriber does for the rest).

The subscriber's listener is replayed from a list instead of a Redis channel, so that the
figure is the execution's alone; bench/subscriptions.py measures the whole path. The
collector is set up as `lms serve` sets it up. Run it in two worktrees, alternating, to
compare revisions (CPU time, so less sensitive to the machine's load than wall time).

Usage: .venv/bin/python bench/subscription_fanout.py [--events 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

from common.auth import Principal, Role
from common.graphql.app import ServiceGraphQL
from router.server.collector import settle_after_startup
from subgraphs.notifications.live import LiveFeed, added_message
from subgraphs.notifications.schema import schema

QUERY = (
    "subscription($category: NotificationCategory) { notificationAdded(category: $category) "
    "{ id category title body createdAt read } }"
)


class _Replayed:
    """A listener that hands out recorded messages, then ends (None: the hub closed)."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self.subscribed = asyncio.Event()

    async def receive(self) -> dict[str, Any] | None:
        return self.items.pop() if self.items else None

    def offer(self, item: object) -> None:
        pass

    def close(self) -> None:
        pass


class _Live:
    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.feed = LiveFeed.__new__(LiveFeed)
        self.feed._revocations = None
        self.items = items

    async def follow(self, principal: Principal) -> AsyncGenerator[Any, None]:
        async for item in self.feed.follow(principal, _Replayed(self.items)):  # type: ignore[arg-type]
            yield item


async def _round(events: int) -> float:
    user = uuid.uuid4()
    principal = Principal(
        user_id=user,
        roles=frozenset({Role.STUDENT}),
        scopes=frozenset(),
        token_id="bench",
        expires_at=time.time() + 3600,
    )
    row = {
        "id": uuid.uuid4(),
        "user_id": user,
        "category": "ANNOUNCEMENT",
        "title": "The exam moves to Friday",
        "body": "Dear learner, the exam of this course moves to Friday at 10:00. " * 3,
        "data": {"course_title": "Algebra"},
        "sender_id": uuid.uuid4(),
        "course_id": uuid.uuid4(),
        "created_at": datetime.now(UTC),
    }
    message = json.loads(json.dumps(added_message(row)))
    items = [dict(message) for _ in range(events)]
    context = argparse.Namespace(
        principal=principal,
        auth_error=None,
        service=argparse.Namespace(live=_Live(items)),
        cache_policy=None,  # as a RequestContext has (the prepared path needs it)
    )
    stream = await schema.subscribe(
        QUERY, variable_values={"category": "ANNOUNCEMENT"}, context_value=context
    )
    if not isinstance(stream, AsyncGenerator):
        raise SystemExit(f"the subscription did not start: {stream}")
    started, delivered = time.process_time(), 0
    async for result in stream:
        if result.errors:
            raise SystemExit(f"the stream failed: {result.errors}")
        ServiceGraphQL.encode_json(None, {"id": "1", "type": "next", "payload": result.data})  # type: ignore[arg-type]
        delivered += 1
    if delivered != events:
        raise SystemExit(f"{delivered} events delivered of {events}")
    return (time.process_time() - started) / events * 1e6


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--events", type=int, default=5000)
    options.add_argument("--rounds", type=int, default=3)
    args = options.parse_args()
    settle_after_startup()
    # one subscription first, as a subgraph's first subscriber to a text: its text accepted,
    # the next take the prepared path (common/graphql/prepared.py), as in a running subgraph
    asyncio.run(_round(1))
    figures = [asyncio.run(_round(args.events)) for _ in range(args.rounds)]
    rounds = ", ".join(f"{value:.1f}" for value in figures)
    print(
        f"notificationAdded: {statistics.median(figures):.1f} us CPU per event and subscriber "
        f"(median of {args.rounds} rounds of {args.events}: {rounds})"
    )


if __name__ == "__main__":
    main()
