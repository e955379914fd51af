"""The course catalogue through the router: who creates, who sees what, filters, order, pages."""

from __future__ import annotations

from tests.accounts import Account
from tests.integration.courses.conftest import create_course, published_course
from tests.support import GraphQLClient, error_codes

COURSE = "query($id: ID!) { course(id: $id) { id title status instructor { id name } } }"
UPDATE = """
mutation($input: UpdateCourseInput!) {
  updateCourse(input: $input) { course { id title version tags descriptionHtml slug } }
}
"""


async def test_instructor_creates_a_draft_with_safe_description(
    graph: GraphQLClient, instructor: Account
) -> None:
    course = await create_course(
        graph,
        instructor,
        "Safe Text",
        description="# Hi\n<script>alert(1)</script> [x](javascript:alert(1)) **bold**",
        tags=["Python", "python", "Data Science"],
    )
    assert course["status"] == "DRAFT"
    assert course["slug"] == "safe-text"
    assert course["tags"] == ["data-science", "python"]
    assert course["instructor"]["id"] == instructor.id
    assert "<script>" not in course["descriptionHtml"]
    assert 'href="javascript' not in course["descriptionHtml"]
    assert "<strong>bold</strong>" in course["descriptionHtml"]
    html = await create_course(
        graph,
        instructor,
        "Html Text",
        description='<p onclick="steal()">hi<img src=x onerror=alert(1)></p>',
        descriptionFormat="HTML",
    )
    assert html["descriptionHtml"] == '<p>hi<img src="x"></p>'


async def test_students_and_strangers_cannot_create(graph: GraphQLClient, student: Account) -> None:
    query = 'mutation { createCourse(input: {title: "Nope Course"}) { course { id } } }'
    assert error_codes(await graph.execute(query, token=student.access_token)) == ["FORBIDDEN"]
    assert error_codes(await graph.execute(query)) == ["UNAUTHENTICATED"]
    assert error_codes(await graph.execute(query, token="forged.token.value")) == [
        "UNAUTHENTICATED"
    ]


async def test_slugs_are_unique_and_validated(graph: GraphQLClient, instructor: Account) -> None:
    first = await create_course(graph, instructor, "Same Title Twice")
    second = await create_course(graph, instructor, "Same Title Twice")
    assert second["slug"] == f"{first['slug']}-2"
    body = await graph.execute(
        'mutation($s: String!) { createCourse(input: {title: "Dup", slug: $s}) { course { id } } }',
        {"s": first["slug"]},
        token=instructor.access_token,
    )
    assert error_codes(body) == ["CONFLICT"]
    for bad in ("Has Spaces", "UPPER", "a", "x--y", "../etc"):
        body = await graph.execute(
            "query($s: String!) { course(slug: $s) { id } }",
            {"s": bad},
            token=instructor.access_token,
        )
        assert error_codes(body) == ["NOT_FOUND"]
        body = await graph.execute(
            'mutation($s: String!) { createCourse(input: {title: "Bad Slug", slug: $s}) { course { id } } }',
            {"s": bad},
            token=instructor.access_token,
        )
        assert error_codes(body) == ["BAD_USER_INPUT"], bad


async def test_drafts_are_hidden_from_students_but_published_courses_are_not(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    draft = await create_course(graph, instructor, "Secret Draft")
    for token in (student.access_token, None):
        body = await graph.execute(COURSE, {"id": draft["id"]}, token=token)
        assert error_codes(body) == ["NOT_FOUND"]
    owner_view = await graph.data(COURSE, {"id": draft["id"]}, token=instructor.access_token)
    assert owner_view["course"]["title"] == "Secret Draft"
    published = await published_course(graph, instructor, admin, "Open Course")
    seen = await graph.data(COURSE, {"id": published["id"]}, token=student.access_token)
    assert seen["course"]["status"] == "PUBLISHED"
    assert seen["course"]["instructor"]["name"] == "Ines Instructor"  # from the users subgraph
    body = await graph.execute(COURSE, {"id": "not-a-uuid"}, token=student.access_token)
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_update_is_optimistic_and_only_for_editors(
    graph: GraphQLClient, instructor: Account, other_instructor: Account, student: Account
) -> None:
    course = await create_course(graph, instructor, "Versioned Course")
    changed = await graph.data(
        UPDATE,
        {"input": {"id": course["id"], "version": 1, "title": "Versioned Course v2"}},
        token=instructor.access_token,
    )
    assert changed["updateCourse"]["course"]["version"] == 2
    stale = await graph.execute(
        UPDATE,
        {"input": {"id": course["id"], "version": 1, "title": "Lost Update"}},
        token=instructor.access_token,
    )
    assert error_codes(stale) == ["CONFLICT"]
    assert "version 2" in stale["errors"][0]["message"]
    # another instructor is not told the draft exists; a student may not edit courses at all
    for intruder, code in ((other_instructor, "NOT_FOUND"), (student, "FORBIDDEN")):
        body = await graph.execute(
            UPDATE,
            {"input": {"id": course["id"], "version": 2, "title": "Hijacked"}},
            token=intruder.access_token,
        )
        assert error_codes(body) == [code]
    bad = await graph.execute(
        UPDATE,
        {"input": {"id": course["id"], "version": 2, "title": None}},
        token=instructor.access_token,
    )
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    wrong_type = await graph.execute(
        UPDATE, {"input": {"id": course["id"], "version": "two"}}, token=instructor.access_token
    )
    assert error_codes(wrong_type) == ["BAD_USER_INPUT"]


async def test_co_instructors_edit_and_courses_taught_lists_them(
    graph: GraphQLClient, instructor: Account, other_instructor: Account, student: Account
) -> None:
    course = await create_course(
        graph, instructor, "Team Taught", coInstructorIds=[other_instructor.id]
    )
    body = await graph.data(
        UPDATE,
        {"input": {"id": course["id"], "version": 1, "tags": ["teamwork"]}},
        token=other_instructor.access_token,
    )
    assert body["updateCourse"]["course"]["tags"] == ["teamwork"]
    escalate = await graph.execute(
        UPDATE,
        {"input": {"id": course["id"], "version": 2, "coInstructorIds": [student.id]}},
        token=other_instructor.access_token,
    )
    assert error_codes(escalate) == ["FORBIDDEN"]
    taught = await graph.data(
        "query { me { name coursesTaught { title } } }", token=other_instructor.access_token
    )
    assert taught["me"]["name"] == "Otto Other"
    assert [item["title"] for item in taught["me"]["coursesTaught"]] == ["Team Taught"]
    seen_by_student = await graph.data(
        "query($id: ID!) { user(id: $id) { coursesTaught { title } } }",
        {"id": other_instructor.id},
        token=student.access_token,
    )
    assert seen_by_student["user"]["coursesTaught"] == []  # a draft: not for students


async def test_filters_order_and_pages(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    root = await graph.data(
        'mutation { createCategory(input: {name: "Engineering Root"}) { category { id slug } } }',
        token=admin.access_token,
    )
    root_id = root["createCategory"]["category"]["id"]
    child = await graph.data(
        'mutation($p: ID!) { createCategory(input: {name: "Backend Child", parentId: $p}) '
        "{ category { id parent { id } } } }",
        {"p": root_id},
        token=admin.access_token,
    )
    child_id = child["createCategory"]["category"]["id"]
    forbidden = await graph.execute(
        'mutation { createCategory(input: {name: "Student Cat"}) { category { id } } }',
        token=student.access_token,
    )
    assert error_codes(forbidden) == ["FORBIDDEN"]
    titles = ["Zeta Filtered", "Alpha Filtered", "Mid Filtered"]
    for title in titles:
        await published_course(
            graph, instructor, admin, title, lessons=1, tags=["filtered-tag"], categoryId=child_id
        )
    query = """
    query($f: CourseFilterInput, $o: CourseOrderInput, $first: Int, $after: String) {
      courses(filter: $f, orderBy: $o, first: $first, after: $after) {
        totalCount edges { cursor node { title category { slug parent { id } } } }
        pageInfo { hasNextPage endCursor }
      }
    }
    """
    by_title = await graph.data(
        query,
        {"f": {"categoryId": root_id}, "o": {"field": "TITLE", "direction": "DESC"}, "first": 2},
        token=student.access_token,
    )
    page = by_title["courses"]
    assert page["totalCount"] == 3  # the root's subtree
    assert [edge["node"]["title"] for edge in page["edges"]] == ["Zeta Filtered", "Mid Filtered"]
    assert page["edges"][0]["node"]["category"]["parent"]["id"] == root_id
    rest = await graph.data(
        query,
        {
            "f": {"categoryId": root_id},
            "o": {"field": "TITLE", "direction": "DESC"},
            "first": 2,
            "after": page["pageInfo"]["endCursor"],
        },
        token=student.access_token,
    )
    assert [edge["node"]["title"] for edge in rest["courses"]["edges"]] == ["Alpha Filtered"]
    assert rest["courses"]["pageInfo"]["hasNextPage"] is False
    tagged = await graph.data(
        query,
        {"f": {"tag": "FILTERED-TAG", "instructorId": instructor.id}},
        token=student.access_token,
    )
    assert tagged["courses"]["totalCount"] == 3
    for bad in ({"after": "garbage"}, {"first": 1000}, {"first": -1}):
        body = await graph.execute(query, bad, token=student.access_token)
        assert error_codes(body) == ["BAD_USER_INPUT"], bad
    drafts = await graph.data(query, {"f": {"status": "DRAFT"}}, token=student.access_token)
    assert drafts["courses"]["totalCount"] == 0
