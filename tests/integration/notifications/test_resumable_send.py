"""A send that fails half-way is completed by sending it again: nobody gets it twice.

The send is stored a chunk of recipients per transaction (two here). The database refuses the
fourth recipient's notification (a trigger raising, as a full disk or a killed connection
would fail that chunk's commit): the first chunk stays committed, the rest is not stored.
Sending again with the same send id completes it, and each recipient sees it once, with one
delivery per channel.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from common.db import create_engine, service_dsn
from common.graphql.app import service_runtime
from common.settings import Settings
from lms import services
from subgraphs.notifications.categories import Category
from subgraphs.notifications.service import NotificationsService
from tests.accounts import Account, register
from tests.integration.notifications.test_notifications import inbox
from tests.support import GraphQLClient

REFUSE = """
CREATE FUNCTION notifications.refuse_one_recipient() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.user_id = '{user_id}'::uuid THEN
    RAISE EXCEPTION 'no room for this notification';
  END IF;
  RETURN NEW;
END $$
"""
TRIGGER = """
CREATE TRIGGER refuse_one_recipient BEFORE INSERT ON notifications.notifications
FOR EACH ROW EXECUTE FUNCTION notifications.refuse_one_recipient()
"""
DROP = "DROP FUNCTION IF EXISTS notifications.refuse_one_recipient() CASCADE"


@pytest.fixture
async def notifications_db(migrated: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(service_dsn(migrated, "notifications"), pool_size=1)
    try:
        yield engine
    finally:
        async with engine.begin() as connection:
            await connection.execute(text(DROP))
        await engine.dispose()


async def titles_seen(graph: GraphQLClient, account: Account, title: str) -> list[str]:
    edges = (await inbox(graph, account, category="ANNOUNCEMENT"))["notifications"]["edges"]
    return [edge["node"]["title"] for edge in edges if edge["node"]["title"] == title]


async def deliveries_of_send(engine: AsyncEngine, send_id: uuid.UUID) -> list[tuple[str, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT d.user_id::text, d.channel FROM notifications.deliveries d"
                " JOIN notifications.notifications n ON n.id = d.notification_id"
                " WHERE n.batch_id = :send ORDER BY 1, 2"
            ),
            {"send": send_id},
        )
        return [(user, channel) for user, channel in rows.all()]


async def test_a_send_failing_half_way_is_completed_by_a_retry_without_duplicates(
    graph: GraphQLClient, migrated: Settings, notifications_db: AsyncEngine
) -> None:
    people = [await register(graph, name=f"Resumed {index}") for index in range(5)]
    async with notifications_db.begin() as connection:
        await connection.execute(text(REFUSE.format(user_id=uuid.UUID(people[3].id))))
        await connection.execute(text(TRIGGER))
    spec = services.spec("notifications")
    title = f"Exam moved {uuid.uuid4().hex[:6]}"
    data = {"title": title, "message": "To Friday."}
    send_id = uuid.uuid4()
    async with service_runtime(spec, migrated, role="resumable-send-test") as runtime:
        built: NotificationsService = spec.service(runtime).notifications
        service = NotificationsService(
            built.sessions, built.directory, platform_name="LMS Platform", batch_size=2
        )
        recipients = [uuid.UUID(person.id) for person in people]

        with pytest.raises(DBAPIError, match="no room for this notification"):
            await service.notify(recipients, Category.ANNOUNCEMENT, data, send_id=send_id)
        # Half done: the first chunk is stored and seen, the failed chunk and the rest not.
        seen = [len(await titles_seen(graph, person, title)) for person in people]
        assert seen == [1, 1, 0, 0, 0]
        served_first = await deliveries_of_send(notifications_db, send_id)
        assert {user for user, _ in served_first} == {people[0].id, people[1].id}

        async with notifications_db.begin() as connection:
            await connection.execute(text(DROP))
        result = await service.notify(recipients, Category.ANNOUNCEMENT, data, send_id=send_id)

    assert (result.batch_id, result.recipients) == (send_id, 5)
    assert [len(await titles_seen(graph, person, title)) for person in people] == [1] * 5
    # every recipient's deliveries once, the first two's as they were before the retry
    deliveries = await deliveries_of_send(notifications_db, send_id)
    assert len(deliveries) == len(set(deliveries))
    channels = {channel for user, channel in served_first if user == people[0].id}
    assert channels  # announcements go out by email at least, by default
    assert deliveries == sorted((person.id, channel) for person in people for channel in channels)
    assert set(served_first) <= set(deliveries)
