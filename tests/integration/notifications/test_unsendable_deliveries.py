"""Deliveries on a channel the deployment has no provider for are settled SKIPPED, with the
reason, in one statement per round (a course announcement leaves thousands of them, and
settling them row by row competed with the live fan-out on the service's event loop)."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from common.db import create_engine, service_dsn
from common.graphql.app import service_runtime
from common.settings import Settings
from lms import services
from subgraphs.notifications.categories import Category
from subgraphs.notifications.dispatcher import Dispatcher
from subgraphs.notifications.service import NotificationsService
from tests.accounts import register
from tests.support import GraphQLClient


async def test_deliveries_without_a_provider_are_skipped_with_the_reason(
    graph: GraphQLClient, migrated: Settings
) -> None:
    people = [await register(graph, name=f"Unsendable {index}") for index in range(3)]
    spec = services.spec("notifications")
    engine = create_engine(service_dsn(migrated, "notifications"), pool_size=1)
    send_id = uuid.uuid4()
    try:
        async with service_runtime(spec, migrated, role="unsendable-test") as runtime:
            built: NotificationsService = spec.service(runtime).notifications
            service = NotificationsService(
                built.sessions, built.directory, platform_name="LMS Platform"
            )
            data = {"title": "Quiet", "message": "Nothing to send it with."}
            recipients = [uuid.UUID(person.id) for person in people]
            await service.notify(recipients, Category.REMINDER, data, send_id=send_id)
            # IN_APP has no provider anywhere (this session's server settles them too, the
            # same way, whichever dispatcher claims them first)
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO notifications.deliveries (id, notification_id, user_id, "
                        "channel) SELECT gen_random_uuid(), id, user_id, 'IN_APP' "
                        "FROM notifications.notifications WHERE batch_id = :send"
                    ),
                    {"send": send_id},
                )
            dispatcher = Dispatcher(built.sessions, built.directory, {}, platform_name="LMS")
            while await dispatcher.deliver_due():
                pass
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT d.status, d.last_error, d.attempts FROM notifications.deliveries d"
                    " JOIN notifications.notifications n ON n.id = d.notification_id"
                    " WHERE n.batch_id = :send AND d.channel = 'IN_APP'"
                ),
                {"send": send_id},
            )
            settled = rows.all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in settled] == [("SKIPPED", "No IN_APP provider is set up.", 0)] * 3
