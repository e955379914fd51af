"""Enrolling, progress, certificates, lesson content access, through the router."""

from __future__ import annotations

from typing import Any

from tests.accounts import Account, register
from tests.integration.courses.conftest import create_course, published_course
from tests.support import GraphQLClient, error_codes

ENROLL = """
mutation($c: ID!) { enroll(input: {courseId: $c}) { enrollment { id status progress course { id title } user { id name } } } }
"""
COMPLETE = """
mutation($c: ID!, $l: ID!) {
  markLessonComplete(input: {courseId: $c, lessonId: $l}) {
    enrollment { status progress completedAt }
    certificateIssued { code credentialJwt verifyUrl pdfUrl credential }
  }
}
"""
LESSON_BODY = "query($id: ID!) { lesson(id: $id) { title body } }"


async def enroll(graph: GraphQLClient, learner: Account, course_id: str) -> dict[str, Any]:
    data = await graph.data(ENROLL, {"c": course_id}, token=learner.access_token)
    enrollment: dict[str, Any] = data["enroll"]["enrollment"]
    return enrollment


async def test_enroll_only_in_published_courses_and_once(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    draft = await create_course(graph, instructor, "Not Yet Open")
    body = await graph.execute(ENROLL, {"c": draft["id"]}, token=student.access_token)
    assert error_codes(body) == ["NOT_FOUND"]
    course = await published_course(graph, instructor, admin, "Open For Enrollment")
    enrollment = await enroll(graph, student, course["id"])
    assert enrollment["status"] == "ACTIVE"
    assert enrollment["course"]["title"] == "Open For Enrollment"  # resolved by courses
    assert enrollment["user"]["name"] == "Stu Student"  # resolved by users
    twice = await graph.execute(ENROLL, {"c": course["id"]}, token=student.access_token)
    assert error_codes(twice) == ["CONFLICT"]
    assert error_codes(await graph.execute(ENROLL, {"c": course["id"]})) == ["UNAUTHENTICATED"]
    assert error_codes(await graph.execute(ENROLL, {"c": "nope"}, token=student.access_token)) == [
        "BAD_USER_INPUT"
    ]
    dropped = await graph.data(
        "mutation($id: ID!) { dropEnrollment(input: {id: $id}) { enrollment { status droppedAt } } }",
        {"id": enrollment["id"]},
        token=student.access_token,
    )
    assert dropped["dropEnrollment"]["enrollment"]["status"] == "DROPPED"
    back = await enroll(graph, student, course["id"])
    assert (back["id"], back["status"]) == (enrollment["id"], "ACTIVE")
    count = await graph.data(
        "query($id: ID!) { course(id: $id) { enrollmentCount } }",
        {"id": course["id"]},
        token=student.access_token,
    )
    assert count["course"]["enrollmentCount"] == 1


async def test_progress_completion_and_a_verifiable_certificate(
    graph: GraphQLClient,
    instructor: Account,
    admin: Account,
    student: Account,
    http: Any,
    users_url: str,
) -> None:
    course = await published_course(graph, instructor, admin, "Certified Course", lessons=2)
    lessons = [lesson["id"] for lesson in course["lessons"]]
    await enroll(graph, student, course["id"])
    first = await graph.data(
        COMPLETE, {"c": course["id"], "l": lessons[0]}, token=student.access_token
    )
    assert first["markLessonComplete"]["enrollment"]["progress"] == 50.0
    assert first["markLessonComplete"]["certificateIssued"] is None
    repeat = await graph.data(
        COMPLETE, {"c": course["id"], "l": lessons[0]}, token=student.access_token
    )
    assert repeat["markLessonComplete"]["enrollment"]["progress"] == 50.0  # idempotent
    done = await graph.data(
        COMPLETE, {"c": course["id"], "l": lessons[1]}, token=student.access_token
    )
    result = done["markLessonComplete"]
    assert result["enrollment"]["status"] == "COMPLETED"
    assert result["enrollment"]["progress"] == 100.0
    certificate = result["certificateIssued"]
    credential = certificate["credential"]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["credentialSubject"]["achievement"]["name"] == "Certified Course"
    assert credential["credentialSubject"]["name"] == "Stu Student"
    verified = await graph.data(
        "query($c: String!) { verifyCertificate(code: $c) { valid reason certificate { courseTitle user { name } } } }",
        {"c": certificate["code"].lower().replace("-", " ")},
    )
    assert verified["verifyCertificate"]["valid"] is True
    assert verified["verifyCertificate"]["certificate"]["user"]["name"] == "Stu Student"
    unknown = await graph.data(
        'query { verifyCertificate(code: "LMS-2222-3333-4444-5555") { valid reason } }'
    )
    assert unknown["verifyCertificate"] == {"valid": False, "reason": "Unknown code."}
    junk = await graph.execute('query { verifyCertificate(code: "<script>") { valid } }')
    assert error_codes(junk) == ["BAD_USER_INPUT"]
    pdf = await http.get(certificate["pdfUrl"])
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    # The JWT verifies with the certificate key the enrollments service publishes as JWKS,
    # a key of its own: not one the users subgraph signs access tokens with.
    from joserfc import jwt
    from joserfc.jwk import KeySet

    service = certificate["verifyUrl"].split("/certificates/")[0]
    published = (await http.get(f"{service}/.well-known/jwks.json")).json()
    header = jwt.decode(certificate["credentialJwt"], KeySet.import_key_set(published)).header
    assert header["typ"] == "vc+jwt"
    platform = (await http.get(f"{users_url}/.well-known/jwks.json")).json()
    assert header["kid"] not in {key["kid"] for key in platform["keys"]}
    not_enrolled = await graph.execute(
        COMPLETE, {"c": course["id"], "l": lessons[0]}, token=instructor.access_token
    )
    assert error_codes(not_enrolled) == ["FORBIDDEN"]
    wrong_lesson = await graph.execute(
        COMPLETE, {"c": course["id"], "l": course["id"]}, token=student.access_token
    )
    assert error_codes(wrong_lesson) == ["BAD_USER_INPUT"]


async def test_lesson_content_is_for_enrolled_learners_and_instructors(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    course = await published_course(graph, instructor, admin, "Gated Content", lessons=1)
    lesson_id = course["lessons"][0]["id"]
    outsider = await graph.execute(LESSON_BODY, {"id": lesson_id}, token=student.access_token)
    assert outsider["data"]["lesson"] == {"title": "Lesson 1", "body": None}
    assert error_codes(outsider) == ["FORBIDDEN"]
    anonymous = await graph.execute(LESSON_BODY, {"id": lesson_id})
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    await enroll(graph, student, course["id"])
    inside = await graph.data(LESSON_BODY, {"id": lesson_id}, token=student.access_token)
    assert inside["lesson"]["body"] == "Body 0"
    teacher = await graph.data(LESSON_BODY, {"id": lesson_id}, token=instructor.access_token)
    assert teacher["lesson"]["body"] == "Body 0"


async def test_others_enrollments_stay_private(
    graph: GraphQLClient,
    instructor: Account,
    other_instructor: Account,
    admin: Account,
    student: Account,
) -> None:
    course = await published_course(graph, instructor, admin, "Private Roster")
    mine = await enroll(graph, student, course["id"])
    peer = await register(graph, name="Peer Learner")
    query = "query($id: ID!) { enrollment(id: $id) { id user { id } } }"
    for intruder in (peer, other_instructor):
        body = await graph.execute(query, {"id": mine["id"]}, token=intruder.access_token)
        assert error_codes(body) == ["NOT_FOUND"]
        listed = await graph.execute(
            "query($id: ID!) { user(id: $id) { enrollments { totalCount } } }",
            {"id": student.id},
            token=intruder.access_token,
        )
        assert error_codes(listed) == ["FORBIDDEN"]
        roster = await graph.execute(
            "query($id: ID!) { course(id: $id) { enrollments { totalCount } } }",
            {"id": course["id"]},
            token=intruder.access_token,
        )
        assert error_codes(roster) == ["FORBIDDEN"]
        # the count is readable beside the refused roster: only the roster is null, with
        # one coded error
        both = await graph.execute(
            "query($id: ID!) { course(id: $id) { enrollmentCount enrollments { totalCount } } }",
            {"id": course["id"]},
            token=intruder.access_token,
        )
        assert both["data"] == {"course": {"enrollmentCount": 1, "enrollments": None}}
        assert error_codes(both) == ["FORBIDDEN"]
        assert both["errors"][0]["path"] == ["course", "enrollments"]
        drop = await graph.execute(
            "mutation($id: ID!) { dropEnrollment(input: {id: $id}) { enrollment { id } } }",
            {"id": mine["id"]},
            token=intruder.access_token,
        )
        assert error_codes(drop) == ["NOT_FOUND"]
    seen = await graph.data(query, {"id": mine["id"]}, token=instructor.access_token)
    assert seen["enrollment"]["user"]["id"] == student.id
    roster = await graph.data(
        "query($id: ID!) { course(id: $id) { enrollments { totalCount edges { node { user { name } } } } } }",
        {"id": course["id"]},
        token=instructor.access_token,
    )
    assert roster["course"]["enrollments"]["totalCount"] == 1
    own = await graph.data(
        "query { me { enrollments { edges { node { course { title } progress } } } } }",
        token=student.access_token,
    )
    assert [e["node"]["course"]["title"] for e in own["me"]["enrollments"]["edges"]] == [
        "Private Roster"
    ]


async def test_bulk_enrollment_by_instructors_only(
    graph: GraphQLClient, instructor: Account, admin: Account, student: Account
) -> None:
    course = await published_course(graph, instructor, admin, "Bulk Course")
    learners = [await register(graph, name=f"Bulk Learner {index}") for index in range(3)]
    bulk = """
    mutation($c: ID!, $ids: [ID!]!) {
      enrollUsers(input: {courseId: $c, userIds: $ids}) { enrolled { user { id } } alreadyEnrolledUserIds }
    }
    """
    ids = [learner.id for learner in learners]
    first = await graph.data(
        bulk, {"c": course["id"], "ids": ids[:2]}, token=instructor.access_token
    )
    assert len(first["enrollUsers"]["enrolled"]) == 2
    second = await graph.data(bulk, {"c": course["id"], "ids": ids}, token=instructor.access_token)
    assert [e["user"]["id"] for e in second["enrollUsers"]["enrolled"]] == [ids[2]]
    assert sorted(second["enrollUsers"]["alreadyEnrolledUserIds"]) == sorted(ids[:2])
    by_student = await graph.execute(
        bulk, {"c": course["id"], "ids": ids}, token=student.access_token
    )
    assert error_codes(by_student) == ["FORBIDDEN"]
    ghost = await graph.execute(
        bulk,
        {"c": course["id"], "ids": ["00000000-0000-0000-0000-000000000000"]},
        token=instructor.access_token,
    )
    assert error_codes(ghost) == ["BAD_USER_INPUT"]
