"""Changes readers see are announced as domain events, and the producing service's worker
publishes what went stale on `lms:cache:invalidate` (the routers' caches follow it)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis

from common.cache_invalidation import CHANNEL
from common.infra.redis import RedisServer
from tests.accounts import Account
from tests.integration.courses.conftest import (
    add_lesson,
    add_module,
    create_course,
    published_course,
)
from tests.support import GraphQLClient, eventually


class Heard:
    """Every message on the channel since the test began."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def about(self, typename: str, reason: str, key: str | None) -> dict[str, Any] | None:
        keys = None if key is None else [{"id": key}]
        for message in self.messages:
            if (message["typename"], message["reason"], message["keys"]) == (
                typename,
                reason,
                keys,
            ):
                return message
        return None

    async def wait_for(self, typename: str, reason: str, key: str | None) -> dict[str, Any]:
        message: dict[str, Any] = await eventually(lambda: self.about(typename, reason, key))
        assert isinstance(message["at"], float)
        return message


@pytest.fixture
async def heard(redis_server: RedisServer, subgraph_urls: dict[str, str]) -> AsyncIterator[Heard]:
    client = Redis.from_url(redis_server.url)
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL)
    heard = Heard()

    async def listen() -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                heard.messages.append(orjson.loads(message["data"]))

    listening = asyncio.create_task(listen())
    try:
        yield heard
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await client.aclose()


UPDATE_COURSE = """
mutation($input: UpdateCourseInput!) { updateCourse(input: $input) { course { id version } } }
"""
COURSE_VERSION = "query($id: ID!) { course(id: $id) { version } }"


async def test_course_changes_invalidate_the_course_or_every_course(
    graph: GraphQLClient, heard: Heard, instructor: Account, admin: Account
) -> None:
    course = await published_course(graph, instructor, admin, "Invalidated Course")
    await heard.wait_for("Course", "course.published", None)  # the catalogue's lists changed
    token = instructor.access_token
    version = (await graph.data(COURSE_VERSION, {"id": course["id"]}, token=token))["course"]
    update = {"id": course["id"], "version": version["version"], "title": "Renamed Course"}
    await graph.data(UPDATE_COURSE, {"input": update}, token=token)
    await heard.wait_for("Course", "course.updated", course["id"])
    archive = "mutation($id: ID!) { archiveCourse(input: {id: $id}) { course { status } } }"
    await graph.data(archive, {"id": course["id"]}, token=token)
    await heard.wait_for("Course", "course.archived", None)
    # sent to review again, the archived course leaves everyone's sight
    submit = "mutation($id: ID!) { submitCourseForReview(input: {id: $id}) { course { id } } }"
    await graph.data(submit, {"id": course["id"]}, token=token)
    await heard.wait_for("Course", "course.unpublished", None)


async def test_outline_changes_invalidate_the_lesson_and_its_course(
    graph: GraphQLClient, heard: Heard, instructor: Account, admin: Account
) -> None:
    course = await published_course(graph, instructor, admin, "Outlined Course", lessons=1)
    lesson = course["lessons"][0]["id"]
    token = instructor.access_token
    rename = 'mutation($id: ID!) { updateLesson(input: {id: $id, title: "New Title"}) { lesson { id } } }'
    await graph.data(rename, {"id": lesson}, token=token)
    await heard.wait_for("Lesson", "lesson.changed", lesson)
    await heard.wait_for("Course", "lesson.changed", course["id"])
    module = (
        'mutation($id: ID!) { updateModule(input: {id: $id, title: "Part One"}) { module { id } } }'
    )
    await graph.data(module, {"id": course["module"]["id"]}, token=token)
    await heard.wait_for("Course", "module.changed", course["id"])


async def test_a_content_save_invalidates_the_lesson_alone(
    graph: GraphQLClient, heard: Heard, instructor: Account
) -> None:
    draft = await create_course(graph, instructor, "Content Only")
    module = await add_module(graph, instructor, draft["id"])
    lesson = (await add_lesson(graph, instructor, module["id"]))["id"]
    token = instructor.access_token
    save = """
    mutation($id: ID!) { updateLessonContent(input: {lessonId: $id, body: "New"}) { lesson { id } } }
    """
    await graph.data(save, {"id": lesson}, token=token)
    # then a change of the outline
    rename = (
        'mutation($id: ID!) { updateLesson(input: {id: $id, title: "Later"}) { lesson { id } } }'
    )
    await graph.data(rename, {"id": lesson}, token=token)

    def about(typename: str, key: str) -> list[dict[str, Any]]:
        return [
            message
            for message in heard.messages
            if message["reason"] == "lesson.changed"
            and (message["typename"], message["keys"]) == (typename, [{"id": key}])
        ]

    # and one of the module, heard after every message the lesson's changes caused
    retitle = (
        'mutation($id: ID!) { updateModule(input: {id: $id, title: "Last"}) { module { id } } }'
    )
    await graph.data(retitle, {"id": module["id"]}, token=token)
    await heard.wait_for("Course", "module.changed", draft["id"])
    # created, content, updated: the lesson thrice; its course for the creation and the update
    # (the worker may publish them in any order, so each count is waited for)
    await eventually(lambda: len(about("Lesson", lesson)) == 3)
    await eventually(lambda: len(about("Course", draft["id"])) >= 2)
    assert len(about("Lesson", lesson)) == 3
    assert len(about("Course", draft["id"])) == 2


async def test_categories_and_profiles_invalidate_theirs(
    graph: GraphQLClient, heard: Heard, admin: Account, student: Account
) -> None:
    create = 'mutation { createCategory(input: {name: "Invalidated Things"}) { category { id } } }'
    await graph.data(create, token=admin.access_token)
    await heard.wait_for("Category", "category.changed", None)
    profile = 'mutation { updateProfile(input: {name: "Stu Renamed"}) { user { id } } }'
    await graph.data(profile, token=student.access_token)
    await heard.wait_for("User", "user.updated", student.id)
    delete = "mutation { deleteUser(input: {}) { deletedUserId } }"
    body = await graph.execute(delete, token=student.access_token)
    assert "errors" not in body, body
    await heard.wait_for("User", "user.deleted", student.id)
