"""Semantic and hybrid search through the router: courses found by meaning once the worker
has embedded them, embeddings following changes of a course's lessons, drafts hidden from
those who cannot see them in every mode, and full-text ranking without the model."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from common.ai import embeddings
from tests.accounts import Account
from tests.cli.lms_process import lms_environment, run_lms
from tests.integration.courses.conftest import add_lesson, add_module, create_course
from tests.integration.courses.conftest import published_course as publish
from tests.support import GraphQLClient, error_codes, eventually

SEARCH = """
query($q: String!, $mode: SearchMode, $owner: ID) {
  searchCourses(query: $q, mode: $mode, first: 20, filter: {instructorId: $owner}) {
    totalCount edges { node { id title } }
  }
}
"""
CONTENT = """
mutation($input: UpdateLessonContentInput!) {
  updateLessonContent(input: $input) { lesson { version } }
}
"""
SPREADSHEETS = (
    "Work confidently in Microsoft Excel: formulas, cell references, sorting and filtering, "
    "charts and pivot tables for everyday business reports."
)
GUITAR = "Your first chords on an acoustic guitar: G, C and D, strumming patterns and songs."
BREAD = "Knead a yeast dough, let it rise, shape a loaf and bake sourdough bread at home."
EMBEDDING_WAIT = 60.0  # the first embedding loads the model in this process


async def titles(
    graph: GraphQLClient, account: Account | None, query: str, mode: str, owner: Account
) -> list[str]:
    data = await graph.data(
        SEARCH,
        {"q": query, "mode": mode, "owner": owner.id},
        token=account.access_token if account else None,
    )
    return [edge["node"]["title"] for edge in data["searchCourses"]["edges"]]


async def published_course(
    graph: GraphQLClient, owner: Account, admin: Account, title: str, description: str
) -> dict[str, Any]:
    return await publish(graph, owner, admin, title, lessons=1, description=description)


async def test_a_course_is_found_by_what_it_teaches_not_only_its_words(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    await published_course(graph, instructor, admin, "Excel Essentials", SPREADSHEETS)
    await published_course(graph, instructor, admin, "Guitar Basics", GUITAR)
    await published_course(graph, instructor, admin, "Baking at Home", BREAD)
    query = "learn to analyse data with spreadsheets"

    async def found_by_meaning() -> bool:
        found = await titles(graph, student, query, "SEMANTIC", instructor)
        return found[:1] == ["Excel Essentials"]

    await eventually(found_by_meaning, within=EMBEDDING_WAIT)
    assert await titles(graph, student, query, "FULL_TEXT", instructor) == []
    hybrid = await titles(graph, student, query, "HYBRID", instructor)
    assert hybrid[0] == "Excel Essentials"
    assert "Guitar Basics" not in hybrid  # unrelated courses stay below the similarity floor
    default = await graph.data(
        "query($q: String!, $owner: ID) { searchCourses(query: $q, filter: {instructorId: "
        "$owner}) { edges { node { title } } } }",
        {"q": query, "owner": instructor.id},
        token=student.access_token,
    )
    assert [e["node"]["title"] for e in default["searchCourses"]["edges"]] == hybrid
    # words still count in HYBRID: a title's prefix finds the course
    assert (await titles(graph, student, "guita", "HYBRID", instructor))[0] == "Guitar Basics"


async def test_the_embedding_follows_a_change_of_lesson_text(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    course = await published_course(graph, instructor, admin, "Evening Workshop", "")
    await published_course(graph, instructor, admin, "Afternoon Workshop", "")
    lesson = course["lessons"][0]
    await graph.data(
        CONTENT,
        {"input": {"lessonId": lesson["id"], "body": GUITAR, "expectedVersion": 1}},
        token=instructor.access_token,
    )

    async def ranked_first(query: str) -> bool:
        found = await titles(graph, student, query, "SEMANTIC", instructor)
        return found[:1] == ["Evening Workshop"]

    await eventually(lambda: ranked_first("play songs on guitar"), within=EMBEDDING_WAIT)
    await graph.data(
        CONTENT,
        {"input": {"lessonId": lesson["id"], "body": BREAD, "expectedVersion": 2}},
        token=instructor.access_token,
    )
    await eventually(lambda: ranked_first("bake bread at home"), within=EMBEDDING_WAIT)
    assert not await ranked_first("play songs on guitar")


async def test_drafts_stay_hidden_from_others_in_every_mode(
    graph: GraphQLClient,
    instructor: Account,
    other_instructor: Account,
    admin: Account,
    student: Account,
) -> None:
    draft = await create_course(graph, instructor, "Spreadsheet Secrets", description=SPREADSHEETS)
    module = await add_module(graph, instructor, draft["id"])
    await add_lesson(graph, instructor, module["id"], "Pivot tables", body=SPREADSHEETS)
    await published_course(graph, instructor, admin, "Guitar Basics", GUITAR)
    query = "learn to analyse data with spreadsheets"

    async def owner_finds_it() -> bool:
        own = await titles(graph, instructor, query, "SEMANTIC", instructor)
        return "Spreadsheet Secrets" in own

    await eventually(owner_finds_it, within=EMBEDDING_WAIT)  # embedded: others could see it
    for mode in ("SEMANTIC", "HYBRID"):
        assert "Spreadsheet Secrets" in await titles(graph, admin, query, mode, instructor)
        for outsider in (student, other_instructor, None):
            found = await titles(graph, outsider, query, mode, instructor)
            assert "Spreadsheet Secrets" not in found, (mode, outsider)


async def test_without_the_model_every_mode_ranks_by_full_text(
    graph: GraphQLClient,
    instructor: Account,
    admin: Account,
    student: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await published_course(graph, instructor, admin, "Excel Essentials", SPREADSHEETS)
    await published_course(graph, instructor, admin, "Excel Charts", SPREADSHEETS)
    await published_course(graph, instructor, admin, "Guitar Basics", GUITAR)
    monkeypatch.setattr(embeddings, "available", lambda: False)
    for query in ("excel", "learn to analyse data with spreadsheets", "pivot tables"):
        full_text = await titles(graph, student, query, "FULL_TEXT", instructor)
        for mode in ("SEMANTIC", "HYBRID"):
            assert await titles(graph, student, query, mode, instructor) == full_text, mode
    assert (
        await titles(
            graph, student, "learn to analyse data with spreadsheets", "SEMANTIC", instructor
        )
        == []
    )


async def test_bad_modes_and_queries_are_refused(graph: GraphQLClient, student: Account) -> None:
    for mode in ("SEMANTIC", "HYBRID"):
        for query in ("", "&|!():*", "x" * 201):
            body = await graph.execute(
                SEARCH, {"q": query, "mode": mode}, token=student.access_token
            )
            assert error_codes(body) == ["BAD_USER_INPUT"], (mode, query)
    unknown = await graph.execute(
        SEARCH, {"q": "excel", "mode": "FUZZY"}, token=student.access_token
    )
    assert error_codes(unknown) == ["BAD_USER_INPUT"]


async def test_embed_courses_command_leaves_no_course_due(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    await published_course(graph, instructor, admin, "Baking at Home", BREAD)
    done = await asyncio.to_thread(run_lms, "embed-courses", "--all", env=lms_environment())
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"embedded \d+ courses\n", done.stdout), done.stdout
    assert done.stderr == ""
    # every course is embedded when it returns: found at once, without waiting for the worker
    assert await titles(graph, student, "make sourdough", "SEMANTIC", instructor) == [
        "Baking at Home"
    ]
