"""Full-text search through the router: weights, prefixes, typos, and visibility."""

from __future__ import annotations

import uuid

from tests.accounts import Account
from tests.integration.courses.conftest import (
    APPROVE,
    SUBMIT,
    add_lesson,
    add_module,
    create_course,
    published_course,
)
from tests.support import GraphQLClient, error_codes

# The full-text ranking (HYBRID, the default, is tested in test_semantic_search.py).
SEARCH = """
query($q: String!, $first: Int, $after: String) {
  searchCourses(query: $q, first: $first, after: $after, mode: FULL_TEXT) {
    totalCount edges { node { title } } pageInfo { hasNextPage endCursor }
  }
}
"""


async def test_title_outranks_description_which_outranks_lessons(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    word = f"zq{uuid.uuid4().hex[:8]}"
    await published_course(graph, instructor, admin, "In Lessons Only", lessons=1)
    await published_course(
        graph, instructor, admin, "Described Course", lessons=1, description=f"About {word} here"
    )
    await published_course(graph, instructor, admin, f"Title {word} Course", lessons=1)
    holder = await create_course(graph, instructor, "Content Course")
    module = await add_module(graph, instructor, holder["id"])
    await add_lesson(graph, instructor, module["id"], "Some lesson", body=f"Deep {word} text")
    await graph.data(SUBMIT, {"id": holder["id"]}, token=instructor.access_token)
    await graph.data(APPROVE, {"id": holder["id"]}, token=admin.access_token)
    found = await graph.data(SEARCH, {"q": word}, token=student.access_token)
    titles = [edge["node"]["title"] for edge in found["searchCourses"]["edges"]]
    assert titles == [f"Title {word} Course", "Described Course", "Content Course"]
    prefix = await graph.data(SEARCH, {"q": word[:6]}, token=student.access_token)
    assert prefix["searchCourses"]["totalCount"] == 3
    paged = await graph.data(SEARCH, {"q": word, "first": 2}, token=student.access_token)
    assert paged["searchCourses"]["pageInfo"]["hasNextPage"] is True
    rest = await graph.data(
        SEARCH,
        {"q": word, "first": 2, "after": paged["searchCourses"]["pageInfo"]["endCursor"]},
        token=student.access_token,
    )
    assert [edge["node"]["title"] for edge in rest["searchCourses"]["edges"]] == ["Content Course"]


async def test_typos_in_titles_are_forgiven_and_drafts_stay_hidden(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    await published_course(graph, instructor, admin, "Kubernetes Fundamentals", lessons=1)
    await create_course(graph, instructor, "Kubernetes Secrets Draft")
    found = await graph.data(SEARCH, {"q": "kubernets"}, token=student.access_token)
    titles = [edge["node"]["title"] for edge in found["searchCourses"]["edges"]]
    assert "Kubernetes Fundamentals" in titles
    assert "Kubernetes Secrets Draft" not in titles
    own = await graph.data(SEARCH, {"q": "kubernetes secrets"}, token=instructor.access_token)
    assert "Kubernetes Secrets Draft" in [e["node"]["title"] for e in own["searchCourses"]["edges"]]


async def test_hostile_search_input(graph: GraphQLClient, student: Account) -> None:
    for query in ("", "   ", "&|!():*", "x" * 201):
        body = await graph.execute(SEARCH, {"q": query}, token=student.access_token)
        assert error_codes(body) == ["BAD_USER_INPUT"], query
    injection = await graph.data(
        SEARCH, {"q": "'; DROP TABLE courses; --"}, token=student.access_token
    )
    assert injection["searchCourses"]["totalCount"] >= 0
    bad_cursor = await graph.execute(
        SEARCH, {"q": "python", "after": "eyJ4Ijox"}, token=student.access_token
    )
    assert error_codes(bad_cursor) == ["BAD_USER_INPUT"]
