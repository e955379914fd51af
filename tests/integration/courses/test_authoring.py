"""Review workflow, modules and lessons, versions, clones and templates, through the router."""

from __future__ import annotations

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

REJECT = """
mutation($id: ID!, $comment: String) {
  rejectCourse(input: {id: $id, comment: $comment}) { course { status } }
}
"""
OUTLINE = """
query($id: ID!) { course(id: $id) { modules { id title position lessons { id title position } } } }
"""
CONTENT = """
mutation($input: UpdateLessonContentInput!) { updateLessonContent(input: $input) { lesson { version } } }
"""
VERSIONS = """
query($id: ID!) { lesson(id: $id) { version body versions { version title body restoredFrom author { id } } } }
"""


async def test_review_workflow(
    graph: GraphQLClient, instructor: Account, other_instructor: Account, admin: Account
) -> None:
    course = await create_course(graph, instructor, "Reviewed Course")
    empty = await graph.execute(SUBMIT, {"id": course["id"]}, token=instructor.access_token)
    assert error_codes(empty) == ["BAD_USER_INPUT"]  # nothing to review yet
    module = await add_module(graph, instructor, course["id"])
    await add_lesson(graph, instructor, module["id"])
    await graph.data(SUBMIT, {"id": course["id"]}, token=instructor.access_token)
    again = await graph.execute(SUBMIT, {"id": course["id"]}, token=instructor.access_token)
    assert error_codes(again) == ["CONFLICT"]
    self_approval = await graph.execute(
        APPROVE, {"id": course["id"]}, token=instructor.access_token
    )
    assert error_codes(self_approval) == ["FORBIDDEN"]
    no_reason = await graph.execute(REJECT, {"id": course["id"]}, token=admin.access_token)
    assert error_codes(no_reason) == ["BAD_USER_INPUT"]
    rejected = await graph.data(
        REJECT, {"id": course["id"], "comment": "Add exercises"}, token=admin.access_token
    )
    assert rejected["rejectCourse"]["course"]["status"] == "DRAFT"
    await graph.data(SUBMIT, {"id": course["id"]}, token=instructor.access_token)
    approved = await graph.data(APPROVE, {"id": course["id"]}, token=admin.access_token)
    assert approved["approveCourse"]["course"]["status"] == "PUBLISHED"
    assert approved["approveCourse"]["course"]["publishedAt"]
    history = await graph.data(
        "query($id: ID!) { course(id: $id) { reviews { action comment actor { id } } } }",
        {"id": course["id"]},
        token=instructor.access_token,
    )
    assert [(item["action"], item["comment"]) for item in history["course"]["reviews"]] == [
        ("SUBMITTED", None),
        ("REJECTED", "Add exercises"),
        ("SUBMITTED", None),
        ("APPROVED", None),
    ]
    # A published course is visible to other instructors, but not theirs to change.
    hijack = await graph.execute(
        "mutation($id: ID!) { archiveCourse(input: {id: $id}) { course { status } } }",
        {"id": course["id"]},
        token=other_instructor.access_token,
    )
    assert error_codes(hijack) == ["FORBIDDEN"]
    archived = await graph.data(
        "mutation($id: ID!) { archiveCourse(input: {id: $id}) { course { status } } }",
        {"id": course["id"]},
        token=instructor.access_token,
    )
    assert archived["archiveCourse"]["course"]["status"] == "ARCHIVED"


async def test_modules_and_lessons_keep_their_order(
    graph: GraphQLClient, instructor: Account, student: Account
) -> None:
    course = await create_course(graph, instructor, "Ordered Course")
    first = await add_module(graph, instructor, course["id"], "First")
    second = await add_module(graph, instructor, course["id"], "Second")
    lessons = [
        await add_lesson(graph, instructor, first["id"], f"Step {index}") for index in range(3)
    ]
    inserted = await graph.data(
        'mutation($m: ID!) { addLesson(input: {moduleId: $m, title: "Inserted", position: 0}) '
        "{ lesson { id position } } }",
        {"m": first["id"]},
        token=instructor.access_token,
    )
    assert inserted["addLesson"]["lesson"]["position"] == 0
    await graph.data(
        "mutation($c: ID!, $ids: [ID!]!) { reorderModules(input: {courseId: $c, moduleIds: $ids}) "
        "{ course { id } } }",
        {"c": course["id"], "ids": [second["id"], first["id"]]},
        token=instructor.access_token,
    )
    reversed_ids = [lesson["id"] for lesson in reversed(lessons)]
    await graph.data(
        "mutation($m: ID!, $ids: [ID!]!) { reorderLessons(input: {moduleId: $m, lessonIds: $ids}) "
        "{ module { id } } }",
        {"m": first["id"], "ids": [*reversed_ids, inserted["addLesson"]["lesson"]["id"]]},
        token=instructor.access_token,
    )
    outline = await graph.data(OUTLINE, {"id": course["id"]}, token=instructor.access_token)
    modules = outline["course"]["modules"]
    assert [module["title"] for module in modules] == ["Second", "First"]
    assert [lesson["title"] for lesson in modules[1]["lessons"]] == [
        "Step 2",
        "Step 1",
        "Step 0",
        "Inserted",
    ]
    assert [lesson["position"] for lesson in modules[1]["lessons"]] == [0, 1, 2, 3]
    for ids in ([first["id"]], [first["id"], first["id"]], [first["id"], lessons[0]["id"]]):
        bad = await graph.execute(
            "mutation($c: ID!, $ids: [ID!]!) { reorderModules(input: {courseId: $c, moduleIds: $ids}) "
            "{ course { id } } }",
            {"c": course["id"], "ids": ids},
            token=instructor.access_token,
        )
        assert error_codes(bad) == ["BAD_USER_INPUT"]
    out_of_range = await graph.execute(
        'mutation($m: ID!) { addLesson(input: {moduleId: $m, title: "Far away", position: 99}) '
        "{ lesson { id } } }",
        {"m": first["id"]},
        token=instructor.access_token,
    )
    assert error_codes(out_of_range) == ["BAD_USER_INPUT"]
    intruder = await graph.execute(
        'mutation($m: ID!) { addLesson(input: {moduleId: $m, title: "Intruder"}) { lesson { id } } }',
        {"m": first["id"]},
        token=student.access_token,
    )
    assert error_codes(intruder) == ["FORBIDDEN"]  # students lack courses:write
    await graph.data(
        "mutation($id: ID!) { deleteModule(input: {id: $id}) { deletedId } }",
        {"id": second["id"]},
        token=instructor.access_token,
    )
    outline = await graph.data(OUTLINE, {"id": course["id"]}, token=instructor.access_token)
    assert [(m["title"], m["position"]) for m in outline["course"]["modules"]] == [("First", 0)]


async def test_every_save_is_a_version_and_old_ones_can_be_restored(
    graph: GraphQLClient, instructor: Account, other_instructor: Account, admin: Account
) -> None:
    course = await published_course(graph, instructor, admin, "Versions Course", lessons=1)
    lesson_id = course["lessons"][0]["id"]
    for version, body in ((1, "Second draft"), (2, "Third draft <script>x</script>")):
        saved = await graph.data(
            CONTENT,
            {"input": {"lessonId": lesson_id, "body": body, "expectedVersion": version}},
            token=instructor.access_token,
        )
        assert saved["updateLessonContent"]["lesson"]["version"] == version + 1
    stale = await graph.execute(
        CONTENT,
        {"input": {"lessonId": lesson_id, "body": "Lost", "expectedVersion": 1}},
        token=instructor.access_token,
    )
    assert error_codes(stale) == ["CONFLICT"]
    restored = await graph.data(
        "mutation($id: ID!) { restoreLessonVersion(input: {lessonId: $id, version: 1}) "
        "{ lesson { version bodyHtml } } }",
        {"id": lesson_id},
        token=instructor.access_token,
    )
    assert restored["restoreLessonVersion"]["lesson"]["version"] == 4
    history = await graph.data(VERSIONS, {"id": lesson_id}, token=instructor.access_token)
    lesson = history["lesson"]
    assert lesson["body"] == "Body 0"
    assert [item["version"] for item in lesson["versions"]] == [4, 3, 2, 1]
    assert lesson["versions"][0]["restoredFrom"] == 1
    assert lesson["versions"][0]["author"]["id"] == instructor.id
    missing = await graph.execute(
        "mutation($id: ID!) { restoreLessonVersion(input: {lessonId: $id, version: 99}) "
        "{ lesson { version } } }",
        {"id": lesson_id},
        token=instructor.access_token,
    )
    assert error_codes(missing) == ["NOT_FOUND"]
    peek = await graph.execute(
        "query($id: ID!) { lesson(id: $id) { versions { body } } }",
        {"id": lesson_id},
        token=other_instructor.access_token,
    )
    assert error_codes(peek) == ["FORBIDDEN"]
    oversized = await graph.execute(
        CONTENT,
        {"input": {"lessonId": lesson_id, "body": "x" * 200_001}},
        token=instructor.access_token,
    )
    assert error_codes(oversized) in (["BAD_USER_INPUT"], ["PAYLOAD_TOO_LARGE"])


async def test_clone_is_a_deep_copy_and_templates_start_courses(
    graph: GraphQLClient, instructor: Account, other_instructor: Account, admin: Account
) -> None:
    source = await published_course(graph, instructor, admin, "Source Course", lessons=2)
    clone = await graph.data(
        "mutation($id: ID!) { cloneCourse(input: {id: $id}) { course { id title status slug } } }",
        {"id": source["id"]},
        token=instructor.access_token,
    )
    copy = clone["cloneCourse"]["course"]
    assert (copy["title"], copy["status"]) == ("Copy of Source Course", "DRAFT")
    outline = await graph.data(OUTLINE, {"id": copy["id"]}, token=instructor.access_token)
    lessons = outline["course"]["modules"][0]["lessons"]
    assert [lesson["title"] for lesson in lessons] == ["Lesson 1", "Lesson 2"]
    assert {lesson["id"] for lesson in lessons}.isdisjoint(item["id"] for item in source["lessons"])
    not_theirs = await graph.execute(
        "mutation($id: ID!) { cloneCourse(input: {id: $id}) { course { id } } }",
        {"id": source["id"]},
        token=other_instructor.access_token,
    )
    assert error_codes(not_theirs) == ["FORBIDDEN"]
    not_template = await graph.execute(
        'mutation($id: ID!) { createCourseFromTemplate(input: {templateId: $id, title: "New One"}) '
        "{ course { id } } }",
        {"id": source["id"]},
        token=other_instructor.access_token,
    )
    assert error_codes(not_template) == ["BAD_USER_INPUT"]
    template = await published_course(
        graph, instructor, admin, "Course Template", lessons=1, isTemplate=True
    )
    started = await graph.data(
        'mutation($id: ID!) { createCourseFromTemplate(input: {templateId: $id, title: "From Template"}) '
        "{ course { id title status instructor { id } } } }",
        {"id": template["id"]},
        token=other_instructor.access_token,
    )
    made = started["createCourseFromTemplate"]["course"]
    assert (made["title"], made["status"]) == ("From Template", "DRAFT")
    assert made["instructor"]["id"] == other_instructor.id
