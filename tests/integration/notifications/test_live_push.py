"""New notifications are pushed to Redis once committed, on the recipient's channel only:
the feed that subscriptions (issue 8) serve from."""

from __future__ import annotations

import asyncio
import uuid

from redis.asyncio import Redis

from common.realtime import PubSubHub
from common.settings import Settings
from subgraphs.notifications.live import user_channel
from tests.accounts import Account, register
from tests.integration.courses.conftest import published_course
from tests.integration.notifications.test_notifications import SEND
from tests.support import GraphQLClient


async def test_committed_notifications_reach_their_recipients_channel_only(
    graph: GraphQLClient, instructor: Account, admin: Account, migrated: Settings
) -> None:
    redis = Redis.from_url(migrated.redis_url)
    hub = PubSubHub(redis)
    try:
        course = await published_course(graph, instructor, admin, "Live Course", lessons=1)
        learner = await register(graph, name="Live Lena")
        bystander = await register(graph, name="Other Otto")
        channel = user_channel(uuid.UUID(learner.id))
        mine = hub.listen(channel)
        theirs = hub.listen(user_channel(uuid.UUID(bystander.id)))
        for _ in range(100):  # until the hub's one connection has subscribed
            if dict(await redis.pubsub_numsub(channel)).get(channel.encode()):
                break
            await asyncio.sleep(0.05)
        # Through an event handler's transaction (enrollment.created): pushed after the
        # consumer commits.
        await graph.data(
            "mutation($c: ID!) { enroll(input: {courseId: $c}) { enrollment { id } } }",
            {"c": course["id"]},
            token=learner.access_token,
        )
        pushes = [await asyncio.wait_for(mine.queue.get(), 15)]
        while pushes[-1]["category"] != "ENROLLMENT":  # the welcome may come first
            pushes.append(await asyncio.wait_for(mine.queue.get(), 15))
        assert pushes[-1]["title"] == "You are enrolled in Live Course"
        await graph.data(
            SEND,
            {
                "input": {
                    "category": "REMINDER",
                    "userIds": [learner.id],
                    "data": {"title": "Live one", "message": "Now"},
                }
            },
            token=admin.access_token,
        )
        pushed = await asyncio.wait_for(mine.queue.get(), 5)
        assert pushed["title"] == "Live one"
        assert pushed["category"] == "REMINDER"
        others = []
        while not theirs.queue.empty():
            others.append(theirs.queue.get_nowait())
        assert all(item.get("title") != "Live one" for item in others)
    finally:
        await hub.close()
        await redis.aclose()
