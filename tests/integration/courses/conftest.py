"""Accounts and course-building steps for the courses tests, all through the router."""

from __future__ import annotations

from typing import Any

import pytest

from common.settings import Settings
from tests.accounts import Account, account_with_roles, register
from tests.support import GraphQLClient

COURSE_FIELDS = """
id slug title description descriptionHtml descriptionFormat status tags language level
isTemplate version publishedAt instructor { id } coInstructors { id }
"""
CREATE_COURSE = f"""
mutation($input: CreateCourseInput!) {{ createCourse(input: $input) {{ course {{ {COURSE_FIELDS} }} }} }}
"""
ADD_MODULE = """
mutation($input: AddModuleInput!) { addModule(input: $input) { module { id title position } } }
"""
ADD_LESSON = """
mutation($input: AddLessonInput!) {
  addLesson(input: $input) { lesson { id title position version required } }
}
"""
SUBMIT = """
mutation($id: ID!) { submitCourseForReview(input: {id: $id}) { course { id status } } }
"""
APPROVE = """
mutation($id: ID!, $comment: String) {
  approveCourse(input: {id: $id, comment: $comment}) { course { id status publishedAt } }
}
"""


@pytest.fixture
def graph(users: GraphQLClient) -> GraphQLClient:
    """The whole graph through the router."""
    return users


@pytest.fixture
async def instructor(graph: GraphQLClient, migrated: Settings) -> Account:
    return await account_with_roles(graph, migrated, ["INSTRUCTOR", "STUDENT"], "Ines Instructor")


@pytest.fixture
async def other_instructor(graph: GraphQLClient, migrated: Settings) -> Account:
    return await account_with_roles(graph, migrated, ["INSTRUCTOR", "STUDENT"], "Otto Other")


@pytest.fixture
async def admin(graph: GraphQLClient, migrated: Settings) -> Account:
    return await account_with_roles(graph, migrated, ["ADMIN", "STUDENT"], "Ada Admin")


@pytest.fixture
async def student(graph: GraphQLClient) -> Account:
    return await register(graph, name="Stu Student")


async def create_course(
    graph: GraphQLClient, owner: Account, title: str = "Python from Scratch", **fields: Any
) -> dict[str, Any]:
    data = await graph.data(
        CREATE_COURSE, {"input": {"title": title, **fields}}, token=owner.access_token
    )
    course: dict[str, Any] = data["createCourse"]["course"]
    return course


async def add_module(
    graph: GraphQLClient, owner: Account, course_id: str, title: str = "Getting started"
) -> dict[str, Any]:
    data = await graph.data(
        ADD_MODULE, {"input": {"courseId": course_id, "title": title}}, token=owner.access_token
    )
    module: dict[str, Any] = data["addModule"]["module"]
    return module


async def add_lesson(
    graph: GraphQLClient, owner: Account, module_id: str, title: str = "Hello", **fields: Any
) -> dict[str, Any]:
    data = await graph.data(
        ADD_LESSON,
        {"input": {"moduleId": module_id, "title": title, **fields}},
        token=owner.access_token,
    )
    lesson: dict[str, Any] = data["addLesson"]["lesson"]
    return lesson


async def published_course(
    graph: GraphQLClient,
    owner: Account,
    admin: Account,
    title: str = "Published Course",
    lessons: int = 2,
    **fields: Any,
) -> dict[str, Any]:
    """A course with one module of `lessons` lessons, reviewed and published."""
    course = await create_course(graph, owner, title, **fields)
    module = await add_module(graph, owner, course["id"])
    course["lessons"] = [
        await add_lesson(graph, owner, module["id"], f"Lesson {index + 1}", body=f"Body {index}")
        for index in range(lessons)
    ]
    course["module"] = module
    await graph.data(SUBMIT, {"id": course["id"]}, token=owner.access_token)
    await graph.data(APPROVE, {"id": course["id"]}, token=admin.access_token)
    return course
