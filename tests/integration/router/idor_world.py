"""The objects an IDOR sweep aims at: two instructors' courses, a learner's enrollment,
attempts and notification, an administrator's API key, all made through the router.

Who is who (the `Actor` names of the cases):
- instructor: owns the published course (with a cohort, an attachment, a question bank and
  three assessments), a draft template and a course in review;
- other_instructor: owns a published course of their own, teaches nothing of the first;
- student: the victim, enrolled in the published course, with a submitted attempt waiting
  for grading, an attempt in progress and a notification;
- intruder: a plain student enrolled in the same course (a classmate);
- mfa_user: a student with multi-factor authentication on;
- admin: builds what needs an administrator and re-reads what the cases aim at;
- admin_key: an API key of that administrator with a student's scopes only (sent as
  X-API-Key), which acts for them but is no administrator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import httpx

from common.settings import Settings
from tests.accounts import Account, account_with_roles, register
from tests.integration.assessments.conftest import (
    CHOICE,
    ENROLL,
    ESSAY,
    assessment,
    question,
    start,
)
from tests.integration.assessments.conftest import SUBMIT as SUBMIT_ATTEMPT
from tests.integration.courses.cartridges import CC13, package, send_cartridge
from tests.integration.courses.conftest import SUBMIT as SUBMIT_FOR_REVIEW
from tests.integration.courses.conftest import (
    add_lesson,
    add_module,
    create_course,
    published_course,
)
from tests.integration.courses.test_attachments import PNG, upload
from tests.integration.users.second_factor import enable_mfa
from tests.support import GraphQLClient

Actor = Literal[
    "admin", "admin_key", "instructor", "other_instructor", "student", "intruder", "mfa_user"
]

STUDENT_ESSAY = "Recursion is a function calling itself: the student's private essay."
NOTIFICATION_TITLE = "Private note for the student"
DRAFT_TITLE = "Zanzibar Draft Template"
DRAFT_BODY = "Unpublished draft lesson body"
OTHER_BODY = "Lesson body for the other instructor's learners only"

CREATE_CATEGORY = """
mutation($name: String!) { createCategory(input: {name: $name}) { category { id } } }
"""
CREATE_COHORT = """
mutation($c: ID!, $name: String!) {
  createCohort(input: {courseId: $c, name: $name, startsOn: "2027-03-01", endsOn: "2027-06-01"}) {
    cohort { id }
  }
}
"""
CREATE_API_KEY = """
mutation($name: String!, $scopes: [String!]!) {
  createApiKey(input: {name: $name, scopes: $scopes}) { key apiKey { id } }
}
"""
STUDENT_SCOPES = ["profile:read", "profile:write", "courses:read", "learning:write"]
SEND_TO_STUDENT = """
mutation($u: ID!, $title: String!) {
  sendNotification(input: {category: ANNOUNCEMENT, userIds: [$u],
    data: {title: $title, message: "Only for you."}}) { recipientCount }
}
"""
ANNOUNCEMENTS = """
{ notifications(category: ANNOUNCEMENT, first: 50) { edges { node { id title } } } }
"""
SAVE_CONTENT = """
mutation($id: ID!, $body: String!) {
  updateLessonContent(input: {lessonId: $id, body: $body}) { lesson { id } }
}
"""
COURSE_VERSION = "query($id: ID!) { course(id: $id) { version } }"


REGISTER_LTI_TOOL = """
mutation { registerLtiTool(input: {name: "Idor Tool", loginUrl: "https://tool.example/login",
  redirectUris: ["https://tool.example/launch"], targetLinkUri: "https://tool.example/launch",
  jwksUrl: "https://tool.example/jwks"}) { tool { id } } }
"""
ADD_LTI_LINK = """
mutation($m: ID!, $t: ID!) {
  addLtiLink(input: {moduleId: $m, toolId: $t, title: "Owned tool link",
    grading: {scoreMaximum: 10, releaseImmediately: false}}) { link { id } }
}
"""
EMPTY_CARTRIDGE = f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="idor" xmlns="{CC13}">
  <metadata><schema>IMS Common Cartridge</schema><schemaversion>1.3.0</schemaversion></metadata>
  <organizations/><resources/>
</manifest>""".encode()


@dataclass(frozen=True)
class World:
    accounts: dict[Actor, Account]
    # The instructor's published course; the student and the intruder are enrolled.
    course: str
    course_version: int
    module: str
    lessons: tuple[str, str]
    attachment: str
    cohort: str
    # The instructor's draft (a template) and their course waiting for review.
    draft_course: str
    draft_lesson: str
    review_course: str
    # The other instructor's published course.
    other_course: str
    other_module: str
    other_lesson: str
    other_cohort: str
    category: str
    # The published course's question bank and assessments.
    essay: str
    choice: str
    choice_id: str
    quiz: str  # essay and choice; the student's attempt waits for grading
    hidden_quiz: str  # unpublished
    submitted_attempt: str
    open_attempt: str  # the student's, in progress, of a second quiz
    enrollment: str  # the student's, in the published course
    notification: str  # the student's
    session: str  # the student's (its refresh-token family)
    api_key: str  # the administrator's
    narrow_key: str  # admin_key's key
    lti_tool: str  # registered by the administrator
    lti_link: str  # the tool placed in the owned course's module, graded, grades held
    course_import: str  # the instructor's cartridge import

    def token(self, actor: Actor) -> str:
        assert actor != "admin_key", "an API key is sent as X-API-Key"
        return self.accounts[actor].access_token

    def credentials(self, actor: Actor) -> dict[str, str]:
        """The headers that sign a request in as this actor."""
        if actor == "admin_key":
            return {"X-API-Key": self.narrow_key}
        return {"Authorization": f"Bearer {self.token(actor)}"}

    def id_of(self, actor: Actor) -> str:
        return self.accounts[actor].id

    @property
    def secrets(self) -> tuple[str, ...]:
        """What no hostile caller may ever get back as data."""
        return (
            self.accounts["student"].email,
            self.accounts["mfa_user"].email,
            STUDENT_ESSAY,
            NOTIFICATION_TITLE,
            DRAFT_BODY,
            OTHER_BODY,
            self.draft_course,
            self.draft_lesson,
            self.review_course,
            self.hidden_quiz,
            self.submitted_attempt,
            self.open_attempt,
            self.enrollment,
            self.notification,
        )


async def build_world(graph: GraphQLClient, http: httpx.AsyncClient, settings: Settings) -> World:
    admin = await account_with_roles(graph, settings, ["ADMIN", "STUDENT"], "Idor Admin")
    teacher = await account_with_roles(graph, settings, ["INSTRUCTOR", "STUDENT"], "Ines Owner")
    rival = await account_with_roles(graph, settings, ["INSTRUCTOR", "STUDENT"], "Otto Rival")
    student = await register(graph, name="Vic Victim")
    intruder = await register(graph, name="Ivan Intruder")
    guarded = await enable_mfa(graph, await register(graph, name="Mia Guarded"))

    course = await published_course(graph, teacher, admin, "Owned Course", lessons=2)
    lessons = [lesson["id"] for lesson in course["lessons"]]
    uploaded = await upload(http, graph.url, teacher.access_token, lessons[0], "diagram.png", PNG)
    cohort = await graph.data(
        CREATE_COHORT, {"c": course["id"], "name": "Owned cohort"}, token=teacher.access_token
    )
    for learner in (student, intruder):
        await graph.data(ENROLL, {"c": course["id"]}, token=learner.access_token)

    draft = await create_course(graph, teacher, DRAFT_TITLE, isTemplate=True)
    draft_module = await add_module(graph, teacher, draft["id"])
    draft_lesson = await add_lesson(graph, teacher, draft_module["id"], "Draft", body=DRAFT_BODY)
    review = await create_course(graph, teacher, "Course Waiting For Review")
    review_module = await add_module(graph, teacher, review["id"])
    await add_lesson(graph, teacher, review_module["id"], "Reviewed lesson")
    await graph.data(SUBMIT_FOR_REVIEW, {"id": review["id"]}, token=teacher.access_token)

    other = await published_course(graph, rival, admin, "Rival Course", lessons=1)
    other_lesson = other["lessons"][0]["id"]
    await graph.data(
        SAVE_CONTENT, {"id": other_lesson, "body": OTHER_BODY}, token=rival.access_token
    )
    other_cohort = await graph.data(
        CREATE_COHORT, {"c": other["id"], "name": "Rival cohort"}, token=rival.access_token
    )
    category = await graph.data(
        CREATE_CATEGORY, {"name": "Idor Category"}, token=admin.access_token
    )

    essay = await question(graph, teacher, course["id"], ESSAY)
    choice = await question(graph, teacher, course["id"], CHOICE)
    quiz = await assessment(
        graph, teacher, course["id"], [{"questionId": essay["id"]}, {"questionId": choice["id"]}]
    )
    open_quiz = await assessment(
        graph, teacher, course["id"], [{"questionId": choice["id"]}], title="Open quiz"
    )
    hidden_quiz = await assessment(
        graph,
        teacher,
        course["id"],
        [{"questionId": choice["id"]}],
        publish=False,
        title="Hidden quiz",
    )
    first_choice = choice["choices"][0]["id"]
    attempt = await start(graph, student, quiz["id"])
    submitted = await graph.data(
        SUBMIT_ATTEMPT,
        {
            "id": attempt["id"],
            "answers": [
                {"questionId": essay["id"], "text": STUDENT_ESSAY},
                {"questionId": choice["id"], "choiceIds": [first_choice]},
            ],
        },
        token=student.access_token,
    )
    assert submitted["submitAttempt"]["attempt"]["status"] == "SUBMITTED"
    open_attempt = await start(graph, student, open_quiz["id"])

    enrollment = await graph.data(
        "{ me { enrollments(first: 10) { edges { node { id course { id } } } } } }",
        token=student.access_token,
    )
    [enrollment_id] = [
        edge["node"]["id"]
        for edge in enrollment["me"]["enrollments"]["edges"]
        if edge["node"]["course"]["id"] == course["id"]
    ]
    await graph.data(
        SEND_TO_STUDENT, {"u": student.id, "title": NOTIFICATION_TITLE}, token=admin.access_token
    )
    inbox = await graph.data(ANNOUNCEMENTS, token=student.access_token)
    [notification_id] = [
        edge["node"]["id"]
        for edge in inbox["notifications"]["edges"]
        if edge["node"]["title"] == NOTIFICATION_TITLE
    ]
    api_key = await graph.data(
        CREATE_API_KEY,
        {"name": "IDOR target", "scopes": ["courses:read"]},
        token=admin.access_token,
    )
    narrow_key = await graph.data(
        CREATE_API_KEY,
        {"name": "Student scopes", "scopes": STUDENT_SCOPES},
        token=admin.access_token,
    )
    version = await graph.data(COURSE_VERSION, {"id": course["id"]}, token=teacher.access_token)
    lti_tool = await graph.data(REGISTER_LTI_TOOL, token=admin.access_token)
    lti_link = await graph.data(
        ADD_LTI_LINK,
        {"m": course["module"]["id"], "t": lti_tool["registerLtiTool"]["tool"]["id"]},
        token=teacher.access_token,
    )
    course_import = await send_cartridge(
        http, graph.url, teacher.access_token, package({"imsmanifest.xml": EMPTY_CARTRIDGE})
    )
    sessions = await graph.data(
        "{ me { sessions { edges { node { id current } } } } }", token=student.access_token
    )
    [session_id] = [
        edge["node"]["id"]
        for edge in sessions["me"]["sessions"]["edges"]
        if edge["node"]["current"]
    ]

    return World(
        accounts={
            "admin": admin,
            "instructor": teacher,
            "other_instructor": rival,
            "student": student,
            "intruder": intruder,
            "mfa_user": guarded.account,
        },
        course=course["id"],
        course_version=version["course"]["version"],
        module=course["module"]["id"],
        lessons=(lessons[0], lessons[1]),
        attachment=uploaded["data"]["addLessonAttachment"]["attachment"]["id"],
        cohort=cohort["createCohort"]["cohort"]["id"],
        draft_course=draft["id"],
        draft_lesson=draft_lesson["id"],
        review_course=review["id"],
        other_course=other["id"],
        other_module=other["module"]["id"],
        other_lesson=other_lesson,
        other_cohort=other_cohort["createCohort"]["cohort"]["id"],
        category=category["createCategory"]["category"]["id"],
        essay=essay["id"],
        choice=choice["id"],
        choice_id=first_choice,
        quiz=quiz["id"],
        hidden_quiz=hidden_quiz["id"],
        submitted_attempt=attempt["id"],
        open_attempt=open_attempt["id"],
        enrollment=enrollment_id,
        notification=notification_id,
        session=session_id,
        api_key=api_key["createApiKey"]["apiKey"]["id"],
        narrow_key=narrow_key["createApiKey"]["key"],
        lti_tool=lti_tool["registerLtiTool"]["tool"]["id"],
        lti_link=lti_link["addLtiLink"]["link"]["id"],
        course_import=course_import["data"]["importCourseCartridge"]["courseImport"]["id"],
    )
