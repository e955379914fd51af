"""The in-process pub/sub hub against a real Redis: fan-out over one connection, slow
listeners cut off alone, Redis restarts survived with a gap signal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from common.infra.redis import RedisServer
from common.realtime import Gap, Listener, PubSubHub, SlowListener, publish, publish_all


async def next_item(listener: Listener) -> Any:
    return await asyncio.wait_for(listener.queue.get(), 5)


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


async def subscribed(hub: PubSubHub, redis: Redis, channel: str) -> None:
    for _ in range(100):
        counts = dict(await redis.pubsub_numsub(channel))
        if counts.get(channel.encode(), 0) >= 1:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{channel} was never subscribed")


async def test_many_listeners_share_one_redis_connection(
    redis: Redis, redis_server: RedisServer
) -> None:
    hub = PubSubHub(Redis.from_url(redis_server.url))
    try:
        listeners = [hub.listen("user:a") for _ in range(50)]
        other = hub.listen("user:b")
        await subscribed(hub, redis, "user:a")
        await subscribed(hub, redis, "user:b")
        await publish(redis, "user:a", {"n": 1})
        assert [await next_item(listener) for listener in listeners] == [{"n": 1}] * 50
        assert other.queue.empty()
        # one connection for 51 listeners (other processes of the session have their own)
        assert await redis.pubsub_numsub("user:a") == [(b"user:a", 1)]
    finally:
        await hub.close()


async def test_a_slow_listener_is_cut_off_alone(redis: Redis, redis_server: RedisServer) -> None:
    hub = PubSubHub(Redis.from_url(redis_server.url), queue_size=5)
    try:
        slow, fast = hub.listen("room"), hub.listen("room")
        await subscribed(hub, redis, "room")
        received: list[dict[str, Any]] = []

        async def keep_up() -> None:
            async for item in fast:
                assert not isinstance(item, Gap)
                received.append(item)
                if len(received) == 20:
                    return

        reader = asyncio.create_task(keep_up())
        for index in range(20):
            await publish(redis, "room", {"n": index})
            await asyncio.sleep(0.01)
        await asyncio.wait_for(reader, 5)
        assert [item["n"] for item in received] == list(range(20))
        with pytest.raises(SlowListener):
            async for _ in slow:
                pass
    finally:
        await hub.close()


async def test_redis_restart_is_survived_and_signalled(
    redis: Redis, redis_server: RedisServer
) -> None:
    hub = PubSubHub(Redis.from_url(redis_server.url))
    try:
        listener = hub.listen("user:c")
        await subscribed(hub, redis, "user:c")
        await publish(redis, "user:c", {"before": True})
        assert await next_item(listener) == {"before": True}
        await asyncio.to_thread(redis_server.stop)
        await asyncio.to_thread(redis_server.start)
        assert isinstance(await asyncio.wait_for(listener.queue.get(), 15), Gap)
        fresh = Redis.from_url(redis_server.url)
        try:
            await subscribed(hub, fresh, "user:c")
            await publish(fresh, "user:c", {"after": True})
            assert await next_item(listener) == {"after": True}
        finally:
            await fresh.aclose()
    finally:
        await hub.close()


async def test_messages_published_as_batches_reach_their_channels_listeners_in_order(
    redis: Redis, redis_server: RedisServer
) -> None:
    hub = PubSubHub(Redis.from_url(redis_server.url), batches="test:batches")
    try:
        users = [f"user:batch:{index}" for index in range(30)]
        listeners = {channel: hub.listen(channel) for channel in users}
        bystander = hub.listen("user:batch:none")
        await subscribed(hub, redis, "test:batches")
        for channel in users:
            await subscribed(hub, redis, channel)
        # Three rounds of one message to each user, then one more to the first alone (a
        # single message goes on its own channel): each listener has its own, in order.
        for round_ in range(3):
            messages = [(channel, {"round": round_, "to": channel}) for channel in users]
            await publish_all(redis, messages, batches="test:batches")
        await publish_all(redis, [(users[0], {"round": 3, "to": users[0]})], batches="test:batches")
        for channel, listener in listeners.items():
            rounds = 4 if channel == users[0] else 3
            assert [await next_item(listener) for _ in range(rounds)] == [
                {"round": round_, "to": channel} for round_ in range(rounds)
            ]
            assert listener.queue.empty()
        assert bystander.queue.empty()
    finally:
        await hub.close()


async def test_batches_travel_as_one_redis_message_each(
    redis: Redis, redis_server: RedisServer
) -> None:
    watcher = redis.pubsub()
    await watcher.psubscribe("user:count:*", "count:batches")
    try:
        messages = [(f"user:count:{index}", {"n": index}) for index in range(2500)]
        await publish_all(redis, messages, batches="count:batches")
        received: list[Any] = []
        while (message := await watcher.get_message(timeout=1.0)) is not None:
            if message["type"] == "pmessage":
                received.append(message)
        # 2,500 messages in batches of at most 1,000: three Redis messages, on the batches' channel
        assert [item["channel"] for item in received] == [b"count:batches"] * 3
    finally:
        await watcher.aclose()  # type: ignore[no-untyped-call]
