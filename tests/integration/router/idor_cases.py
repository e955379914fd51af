"""The IDOR table: for every Query and Mutation field that takes an id, hostile calls with
another user's object id, what they must get back, and how the target is re-read.

Conventions of a case:
- `$id` in its document is the id aimed at (the one the malformed-id sweep replaces);
- `refused`: the error codes of which one is expected; empty when the field answers "only
  yours" instead, without errors (then `leak`, if given, must not be in the answer);
- `reread`: the target read by its owner or an administrator before and after the call,
  which must be equal (for mutations: nothing changed);
- `control`: someone allowed, whose same request must show `leak` (so a missing leak is
  proof of refusal, not of a broken request).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.integration.router.idor_world import DRAFT_TITLE, OTHER_BODY, Actor, World

Variables = Callable[[World], dict[str, Any]]
Marker = Callable[[World], str]

FORBIDDEN = frozenset({"FORBIDDEN"})
NOT_FOUND = frozenset({"NOT_FOUND"})
REFUSED = FORBIDDEN | NOT_FOUND
BAD_INPUT = frozenset({"BAD_USER_INPUT"})


@dataclass(frozen=True)
class Reread:
    document: str
    variables: Variables
    reader: Actor = "admin"


@dataclass(frozen=True)
class Case:
    name: str
    caller: Actor
    document: str
    variables: Variables
    refused: frozenset[str] = REFUSED
    reread: Reread | None = None
    leak: Marker | None = None
    control: Actor | None = None
    # a GraphQL multipart request, its file in the variable `$file`
    upload: bool = field(default=False, repr=False)


# Re-reads, by what they look at.

COURSE = Reread(
    "query($id: ID!) { course(id: $id) { title version status isTemplate "
    "modules { id title position lessons { id title position version required } } "
    "cohorts { id } assessments { id title published gradesReleasedAt } "
    "enrollments(first: 100) { totalCount edges { node { id status cohort { id } } } } } }",
    lambda w: {"id": w.course},
)
DRAFT = Reread(
    "query($id: ID!) { course(id: $id) { title version status enrollments { totalCount } } }",
    lambda w: {"id": w.draft_course},
)
IN_REVIEW = Reread(
    "query($id: ID!) { course(id: $id) { status version reviews { action } } }",
    lambda w: {"id": w.review_course},
)
TAUGHT_BY_RIVAL = Reread(
    "query($id: ID!) { user(id: $id) { coursesTaught { id title } } }",
    lambda w: {"id": w.id_of("other_instructor")},
)
LESSON = Reread(
    "query($id: ID!) { lesson(id: $id) { title version required body "
    "attachments { id } versions { version } } }",
    lambda w: {"id": w.lessons[0]},
    "instructor",
)
QUESTION_BANK = Reread(
    "query($c: ID!) { questionBank(courseId: $c, first: 100) { totalCount "
    "edges { node { id prompt points archived tags } } } }",
    lambda w: {"c": w.course},
    "instructor",
)
ASSESSMENT = Reread(
    "query($id: ID!) { assessment(id: $id) { title published passingScore gradesReleasedAt "
    "attempts(first: 100) { totalCount } } }",
    lambda w: {"id": w.quiz},
    "instructor",
)
HIDDEN_ASSESSMENT = Reread(
    "query($id: ID!) { assessment(id: $id) { title published attempts { totalCount } } }",
    lambda w: {"id": w.hidden_quiz},
    "instructor",
)
SUBMITTED_ATTEMPT = Reread(
    "query($id: ID!) { attempt(id: $id) { status submittedAt score "
    "answers { points feedback rubricScores awaitingGrading response { text choiceIds } } } }",
    lambda w: {"id": w.submitted_attempt},
    "instructor",
)
PLAGIARISM_SETTINGS = Reread(
    "query($id: ID!) { plagiarismReport(assessmentId: $id) { settings { enabled "
    "codeThreshold textThreshold excludedQuestionIds } } }",
    lambda w: {"id": w.quiz},
    "instructor",
)
OPEN_ATTEMPT = Reread(
    "query($id: ID!) { attempt(id: $id) { status submittedAt "
    "answers { savedAt response { choiceIds } } } }",
    lambda w: {"id": w.open_attempt},
    "student",
)
ENROLLMENT = Reread(
    "query($id: ID!) { enrollment(id: $id) { status droppedAt cohort { id } "
    "completedLessons { id } } }",
    lambda w: {"id": w.enrollment},
)
COURSE_ACTIVITY = Reread(
    "query($id: ID!) { course(id: $id) { learningAnalytics { "
    "engagement { start statements views } lessons { views learnersReached } } } }",
    lambda w: {"id": w.course},
)
LTI_LINKS = Reread(
    "query($c: ID!) { ltiLinks(courseId: $c) { id title moduleId position } }",
    lambda w: {"c": w.course},
    "instructor",
)
LTI_GRADED = Reread(
    "query($c: ID!) { ltiLinks(courseId: $c) { id graded gradesReleasedAt "
    "lineItem { label scoreMaximum } } }",
    lambda w: {"c": w.course},
    "instructor",
)
LTI_TOOLS = Reread("{ ltiTools { id name } }", lambda w: {})
LEARNING_PATHS = Reread("{ learningPaths { id title } }", lambda w: {})
NOTIFICATION = Reread(
    "query($id: ID!) { notification(id: $id) { id title read readAt } }",
    lambda w: {"id": w.notification},
    "student",
)
ANNOUNCEMENTS = Reread(
    "{ notifications(category: ANNOUNCEMENT, first: 100) { totalCount } }",
    lambda w: {},
    "student",
)
PROFILE = Reread(
    "query($id: ID!) { user(id: $id) { id name bio avatarUrl locale timezone roles email "
    "preferences { theme marketingEmails reducedMotion } mfa { enabled } } }",
    lambda w: {"id": w.id_of("student")},
)
INTRUDER_ROLES = Reread(
    "query($id: ID!) { user(id: $id) { roles } }", lambda w: {"id": w.id_of("intruder")}
)
GUARDED = Reread(
    "query($id: ID!) { user(id: $id) { mfa { enabled recoveryCodesRemaining } } }",
    lambda w: {"id": w.id_of("mfa_user")},
)
SESSIONS = Reread(
    "{ me { sessions(first: 100) { edges { node { id current } } } } }", lambda w: {}, "student"
)
DATA_EXPORTS = Reread(
    "query($id: ID!) { user(id: $id) { dataExports { id status } } }",
    lambda w: {"id": w.id_of("student")},
)
API_KEYS = Reread("{ apiKeys(first: 100) { edges { node { id revokedAt } } } }", lambda w: {})
CATEGORIES = Reread("{ categories { id children { id } } }", lambda w: {})


# Every field of User is public or private: a new one fails the sweep until it is sorted.
# A stranger reads the public ones (coursesTaught filtered to what they may see) ...
PUBLIC_USER_FIELDS: dict[str, str] = {
    "id": "id",
    "name": "name",
    "roles": "roles",
    "bio": "bio",
    "avatarUrl": "avatarUrl",
    "locale": "locale",
    "timezone": "timezone",
    "createdAt": "createdAt",
    "updatedAt": "updatedAt",
    "coursesTaught": "coursesTaught { id }",
}
# ... and is refused each private one.
PRIVATE_USER_FIELDS: dict[str, str] = {
    "email": "email",
    "preferences": "preferences { theme marketingEmails }",
    "mfa": "mfa { enabled recoveryCodesRemaining }",
    "enrollments": "enrollments { edges { node { id } } }",
    "submissions": "submissions { edges { node { id } } }",
    "notifications": "notifications { edges { node { id title } } }",
    "unreadNotificationCount": "unreadNotificationCount",
    "notificationPreferences": "notificationPreferences { category frequency }",
    "learningActivity": "learningActivity { secondsOnTask days { start statements } }",
    "recommendations": "recommendations { score reasons course { id } }",
    "recommendedLearningPaths": "recommendedLearningPaths { score learningPath { id } }",
    "atRisk": 'atRisk(courseId: "5a1e4f3c-8d2b-4e6a-9c7f-0b1d2e3f4a5b") { probability }',
    "learningProgress": 'learningProgress(courseId: "00000000-0000-4000-8000-000000000001") '
    "{ lessons grades { score } }",
    "linkedIdentities": "linkedIdentities { provider email }",
    "emailVerified": "emailVerified",
    "pendingEmail": "pendingEmail",
    "sessions": "sessions { edges { node { id clientAddress userAgent } } }",
    "dataExports": "dataExports { id status }",
}


def _private_field(name: str, selection: str) -> Case:
    return Case(
        f"student reads another's {name}",
        "intruder",
        f"query($id: ID!) {{ user(id: $id) {{ id name {selection} }} }}",
        lambda w: {"id": w.id_of("student")},
        FORBIDDEN,
    )


CASES: dict[str, tuple[Case, ...]] = {
    # LTI tools and links (courses subgraph)
    "Mutation.deleteLtiTool": (
        Case(
            "instructor deletes a registered LTI tool",
            "instructor",
            "mutation($id: ID!) { deleteLtiTool(id: $id) { id } }",
            lambda w: {"id": w.lti_tool},
            FORBIDDEN,
            LTI_TOOLS,
        ),
    ),
    "Mutation.addLtiLink": (
        Case(
            "other instructor places a tool in a course's module",
            "other_instructor",
            "mutation($id: ID!, $t: ID!) { addLtiLink(input: {moduleId: $id, toolId: $t, "
            'title: "Planted"}) { link { id } } }',
            lambda w: {"id": w.module, "t": w.lti_tool},
            REFUSED,
            LTI_LINKS,
        ),
    ),
    "Mutation.removeLtiLink": (
        Case(
            "other instructor removes a course's LTI link",
            "other_instructor",
            "mutation($id: ID!) { removeLtiLink(id: $id) { id } }",
            lambda w: {"id": w.lti_link},
            REFUSED,
            LTI_LINKS,
        ),
        Case(
            "learner removes their course's LTI link",
            "student",
            "mutation($id: ID!) { removeLtiLink(id: $id) { id } }",
            lambda w: {"id": w.lti_link},
            REFUSED,
            LTI_LINKS,
        ),
    ),
    "Mutation.launchLtiLink": (
        Case(
            "instructor of another course launches a course's tool",
            "other_instructor",
            "mutation($id: ID!) { launchLtiLink(input: {id: $id}) { initiationUrl } }",
            lambda w: {"id": w.lti_link},
            REFUSED,
            LTI_LINKS,
        ),
    ),
    "Mutation.releaseLtiGrades": (
        Case(
            "other instructor releases a course's tool grades",
            "other_instructor",
            "mutation($id: ID!) { releaseLtiGrades(input: {linkId: $id}) { link { id } } }",
            lambda w: {"id": w.lti_link},
            REFUSED,
            LTI_GRADED,
        ),
        Case(
            "learner releases their course's tool grades",
            "student",
            "mutation($id: ID!) { releaseLtiGrades(input: {linkId: $id}) { link { id } } }",
            lambda w: {"id": w.lti_link},
            REFUSED,
            LTI_GRADED,
        ),
    ),
    "Mutation.startLtiDeepLinking": (
        Case(
            "other instructor starts deep linking into a course's module",
            "other_instructor",
            "mutation($id: ID!, $t: ID!) { startLtiDeepLinking(input: {moduleId: $id, "
            "toolId: $t}) { initiationUrl } }",
            lambda w: {"id": w.module, "t": w.lti_tool},
            REFUSED,
            LTI_LINKS,
        ),
    ),
    "Query.ltiLinks": (
        Case(
            "other instructor lists the LTI links of a draft",
            "other_instructor",
            "query($id: ID!) { ltiLinks(courseId: $id) { id } }",
            lambda w: {"id": w.draft_course},
            REFUSED,
        ),
    ),
    "Query.ltiGrades": (
        Case(
            "instructor of another course reads a course's tool grades",
            "other_instructor",
            "query($id: ID!) { ltiGrades(courseId: $id) { userId scoreGiven } }",
            lambda w: {"id": w.course},
            REFUSED,
        ),
    ),
    # Common Cartridge (courses subgraph)
    "Query.exportCourseCartridge": (
        Case(
            "other instructor exports a course as a cartridge",
            "other_instructor",
            "query($id: ID!) { exportCourseCartridge(courseId: $id) { url } }",
            lambda w: {"id": w.course},
            FORBIDDEN,
        ),
        Case(
            "learner exports their course as a cartridge",
            "student",
            "query($id: ID!) { exportCourseCartridge(courseId: $id) { url } }",
            lambda w: {"id": w.course},
            FORBIDDEN,
        ),
    ),
    "Query.courseImport": (
        Case(
            "other instructor follows an instructor's cartridge import",
            "other_instructor",
            "query($id: ID!) { courseImport(id: $id) { id filename course { id } } }",
            lambda w: {"id": w.course_import},
            REFUSED,
            control="instructor",
            leak=lambda w: w.course_import,
        ),
        Case(
            "learner follows an instructor's cartridge import",
            "intruder",
            "query($id: ID!) { courseImport(id: $id) { id filename } }",
            lambda w: {"id": w.course_import},
            REFUSED,
        ),
    ),
    # Assessments
    "Query.assessment": (
        Case(
            "classmate reads an unpublished assessment",
            "intruder",
            "query($id: ID!) { assessment(id: $id) { id title } }",
            lambda w: {"id": w.hidden_quiz},
            NOT_FOUND,
        ),
        Case(
            "other instructor reads an unpublished assessment",
            "other_instructor",
            "query($id: ID!) { assessment(id: $id) { id title } }",
            lambda w: {"id": w.hidden_quiz},
            NOT_FOUND,
        ),
        Case(
            "classmate lists the attempts of an assessment: only their own",
            "intruder",
            "query($id: ID!) { assessment(id: $id) { attempts { edges { node { id } } } } }",
            lambda w: {"id": w.quiz},
            frozenset(),
            leak=lambda w: w.submitted_attempt,
            control="instructor",
        ),
        Case(
            "classmate reads how an assessment is built, answer keys included",
            "intruder",
            "query($id: ID!) { assessment(id: $id) { slots { question { answerKey "
            "{ choiceIds } } } } }",
            lambda w: {"id": w.quiz},
            FORBIDDEN,
        ),
        Case(
            "classmate reads the statistics of an assessment",
            "intruder",
            "query($id: ID!) { assessment(id: $id) { statistics { learners mean } } }",
            lambda w: {"id": w.quiz},
            FORBIDDEN,
        ),
    ),
    "Query.attempt": (
        Case(
            "classmate reads a student's attempt",
            "intruder",
            "query($id: ID!) { attempt(id: $id) { id answers { response { text } } } }",
            lambda w: {"id": w.submitted_attempt},
            NOT_FOUND,
        ),
        Case(
            "other instructor reads a student's attempt",
            "other_instructor",
            "query($id: ID!) { attempt(id: $id) { id answers { response { text } } } }",
            lambda w: {"id": w.submitted_attempt},
            NOT_FOUND,
        ),
        Case(
            "administrator's student-scoped API key reads a student's attempt",
            "admin_key",
            "query($id: ID!) { attempt(id: $id) { id answers { response { text } } } }",
            lambda w: {"id": w.submitted_attempt},
            NOT_FOUND,
        ),
    ),
    "Query.question": (
        Case(
            "student reads a question and its answer key",
            "intruder",
            "query($id: ID!) { question(id: $id) { id prompt answerKey { choiceIds } } }",
            lambda w: {"id": w.choice},
            NOT_FOUND,
        ),
        Case(
            "other instructor reads a question",
            "other_instructor",
            "query($id: ID!) { question(id: $id) { id prompt } }",
            lambda w: {"id": w.choice},
            NOT_FOUND,
        ),
    ),
    "Query.exportQuestionBank": (
        Case(
            "other instructor exports a course's question bank",
            "other_instructor",
            "query($id: ID!) { exportQuestionBank(courseId: $id) { url itemCount } }",
            lambda w: {"id": w.course},
            FORBIDDEN,
        ),
        Case(
            "student exports a course's question bank",
            "intruder",
            "query($id: ID!) { exportQuestionBank(courseId: $id) { url itemCount } }",
            lambda w: {"id": w.course},
            FORBIDDEN,
        ),
    ),
    "Mutation.importQuestions": (
        Case(
            "other instructor imports questions into a course's bank",
            "other_instructor",
            "mutation($id: ID!, $file: Upload!) { importQuestions(courseId: $id, file: $file) "
            "{ imported { id } } }",
            lambda w: {"id": w.course},
            FORBIDDEN,
            QUESTION_BANK,
            upload=True,
        ),
    ),
    "Query.questionBank": (
        Case(
            "other instructor lists a course's question bank",
            "other_instructor",
            "query($id: ID!) { questionBank(courseId: $id) { edges { node { id prompt } } } }",
            lambda w: {"id": w.course},
            FORBIDDEN,
        ),
        Case(
            "student lists a course's question bank",
            "intruder",
            "query($id: ID!) { questionBank(courseId: $id) { edges { node { id prompt } } } }",
            lambda w: {"id": w.course},
            FORBIDDEN,
        ),
    ),
    "Mutation.createQuestion": (
        Case(
            "other instructor writes into a course's bank",
            "other_instructor",
            "mutation($id: ID!) { createQuestion(input: {courseId: $id, kind: TRUE_FALSE, "
            'prompt: "Planted?", booleanAnswer: true}) { question { id } } }',
            lambda w: {"id": w.course},
            FORBIDDEN,
            QUESTION_BANK,
        ),
    ),
    "Mutation.updateQuestion": (
        Case(
            "other instructor rewrites a question",
            "other_instructor",
            "mutation($id: ID!, $c: ID!) { updateQuestion(input: {id: $id, question: "
            '{courseId: $c, kind: TRUE_FALSE, prompt: "Rewritten", booleanAnswer: false}}) '
            "{ question { id } } }",
            lambda w: {"id": w.choice, "c": w.course},
            NOT_FOUND,
            QUESTION_BANK,
        ),
        Case(
            "other instructor moves a question into their own bank",
            "other_instructor",
            "mutation($id: ID!, $c: ID!) { updateQuestion(input: {id: $id, question: "
            '{courseId: $c, kind: TRUE_FALSE, prompt: "Stolen", booleanAnswer: false}}) '
            "{ question { id } } }",
            lambda w: {"id": w.choice, "c": w.other_course},
            NOT_FOUND,
            QUESTION_BANK,
        ),
    ),
    "Mutation.archiveQuestion": (
        Case(
            "other instructor archives a question",
            "other_instructor",
            "mutation($id: ID!) { archiveQuestion(input: {id: $id}) { question { id } } }",
            lambda w: {"id": w.choice},
            NOT_FOUND,
            QUESTION_BANK,
        ),
    ),
    "Mutation.createAssessment": (
        Case(
            "other instructor adds an assessment to a course",
            "other_instructor",
            "mutation($id: ID!) { createAssessment(input: {courseId: $id, "
            'title: "Planted quiz", kind: QUIZ}) { assessment { id } } }',
            lambda w: {"id": w.course},
            FORBIDDEN,
            COURSE,
        ),
        Case(
            "other instructor uses another course's question in their own assessment",
            "other_instructor",
            "mutation($c: ID!, $id: ID!) { createAssessment(input: {courseId: $c, "
            'title: "Borrowed quiz", kind: QUIZ, questions: [{questionId: $id}]}) '
            "{ assessment { id } } }",
            lambda w: {"c": w.other_course, "id": w.essay},
            BAD_INPUT,
            QUESTION_BANK,
        ),
    ),
    "Mutation.updateAssessment": (
        Case(
            "other instructor changes an assessment",
            "other_instructor",
            "mutation($id: ID!, $c: ID!) { updateAssessment(input: {id: $id, assessment: "
            '{courseId: $c, title: "Hijacked", kind: EXAM, passingScore: 0}}) '
            "{ assessment { id } } }",
            lambda w: {"id": w.quiz, "c": w.course},
            NOT_FOUND,
            ASSESSMENT,
        ),
        Case(
            "enrolled student changes an assessment",
            "intruder",
            "mutation($id: ID!, $c: ID!) { updateAssessment(input: {id: $id, assessment: "
            '{courseId: $c, title: "Hijacked", kind: EXAM, passingScore: 0}}) '
            "{ assessment { id } } }",
            lambda w: {"id": w.quiz, "c": w.course},
            FORBIDDEN,
            ASSESSMENT,
        ),
    ),
    "Mutation.publishAssessment": (
        Case(
            "other instructor publishes an assessment",
            "other_instructor",
            "mutation($id: ID!) { publishAssessment(input: {id: $id}) { assessment { id } } }",
            lambda w: {"id": w.hidden_quiz},
            NOT_FOUND,
            HIDDEN_ASSESSMENT,
        ),
    ),
    "Mutation.releaseGrades": (
        Case(
            "other instructor releases grades",
            "other_instructor",
            "mutation($id: ID!) { releaseGrades(input: {assessmentId: $id}) "
            "{ assessment { id } } }",
            lambda w: {"id": w.quiz},
            NOT_FOUND,
            ASSESSMENT,
        ),
    ),
    "Query.itemCalibrations": (
        Case(
            "other instructor reads a course's item parameters",
            "other_instructor",
            "query($id: ID!) { itemCalibrations(courseId: $id) { difficulty } }",
            lambda w: {"id": w.course},
            FORBIDDEN,
        ),
        Case(
            "student reads a course's item parameters",
            "intruder",
            "query($id: ID!) { itemCalibrations(courseId: $id) { difficulty } }",
            lambda w: {"id": w.course},
            FORBIDDEN,
        ),
    ),
    "Mutation.calibrateItems": (
        Case(
            "other instructor calibrates a course's bank",
            "other_instructor",
            "mutation($id: ID!) { calibrateItems(input: {courseId: $id}) { calibrated } }",
            lambda w: {"id": w.course},
            FORBIDDEN,
            COURSE,
        ),
    ),
    "Mutation.configureAdaptive": (
        Case(
            "other instructor makes an assessment adaptive",
            "other_instructor",
            "mutation($id: ID!) { configureAdaptive(input: {assessmentId: $id}) "
            "{ assessment { id } } }",
            lambda w: {"id": w.hidden_quiz},
            NOT_FOUND,
            HIDDEN_ASSESSMENT,
        ),
    ),
    "Mutation.startAttempt": (
        Case(
            "someone not enrolled starts an attempt",
            "other_instructor",
            "mutation($id: ID!) { startAttempt(input: {assessmentId: $id}) "
            "{ attempt { id answers { question { prompt } } } } }",
            lambda w: {"id": w.quiz},
            REFUSED,
            ASSESSMENT,
        ),
        Case(
            "enrolled student starts an unpublished assessment",
            "intruder",
            "mutation($id: ID!) { startAttempt(input: {assessmentId: $id}) "
            "{ attempt { id answers { question { prompt } } } } }",
            lambda w: {"id": w.hidden_quiz},
            REFUSED,
            HIDDEN_ASSESSMENT,
        ),
    ),
    "Mutation.saveAnswers": (
        Case(
            "classmate saves answers into a student's attempt",
            "intruder",
            "mutation($id: ID!, $q: ID!, $choice: ID!) { saveAnswers(input: {attemptId: $id, "
            "answers: [{questionId: $q, choiceIds: [$choice]}]}) { attempt { id } } }",
            lambda w: {"id": w.open_attempt, "q": w.choice, "choice": w.choice_id},
            NOT_FOUND,
            OPEN_ATTEMPT,
        ),
    ),
    "Mutation.submitAttempt": (
        Case(
            "classmate submits a student's attempt",
            "intruder",
            "mutation($id: ID!) { submitAttempt(input: {attemptId: $id}) "
            "{ attempt { id score } } }",
            lambda w: {"id": w.open_attempt},
            NOT_FOUND,
            OPEN_ATTEMPT,
        ),
    ),
    "Mutation.gradeAnswer": (
        Case(
            "other instructor grades a student's essay",
            "other_instructor",
            "mutation($id: ID!, $q: ID!) { gradeAnswer(input: {attemptId: $id, questionId: $q, "
            'points: 0, feedback: "Graded by a stranger"}) { attempt { id } } }',
            lambda w: {"id": w.submitted_attempt, "q": w.essay},
            NOT_FOUND,
            SUBMITTED_ATTEMPT,
        ),
        Case(
            "classmate grades a student's essay",
            "intruder",
            "mutation($id: ID!, $q: ID!) { gradeAnswer(input: {attemptId: $id, questionId: $q, "
            'points: 0, feedback: "Graded by a classmate"}) { attempt { id } } }',
            lambda w: {"id": w.submitted_attempt, "q": w.essay},
            FORBIDDEN,
            SUBMITTED_ATTEMPT,
        ),
    ),
    # Plagiarism detection: the course's instructors and administrators only
    "Query.similarityReport": (
        Case(
            "classmate reads a student's similarity report",
            "intruder",
            "query($id: ID!) { similarityReport(attemptId: $id) { score answers { text } } }",
            lambda w: {"id": w.submitted_attempt},
            NOT_FOUND,
        ),
        Case(
            "other instructor reads a student's similarity report",
            "other_instructor",
            "query($id: ID!) { similarityReport(attemptId: $id) { score answers { text } } }",
            lambda w: {"id": w.submitted_attempt},
            NOT_FOUND,
        ),
    ),
    "Query.plagiarismReport": (
        Case(
            "classmate reads an assessment's suspicious pairs",
            "intruder",
            "query($id: ID!) { plagiarismReport(assessmentId: $id) { pairs { score } } }",
            lambda w: {"id": w.quiz},
            FORBIDDEN,
        ),
        Case(
            "other instructor reads an assessment's suspicious pairs",
            "other_instructor",
            "query($id: ID!) { plagiarismReport(assessmentId: $id) { pairs { score } } }",
            lambda w: {"id": w.quiz},
            NOT_FOUND,
        ),
    ),
    "Mutation.setPlagiarismSettings": (
        Case(
            "other instructor turns plagiarism detection off",
            "other_instructor",
            "mutation($id: ID!) { setPlagiarismSettings(input: {assessmentId: $id, "
            "enabled: false}) { settings { enabled } } }",
            lambda w: {"id": w.quiz},
            NOT_FOUND,
            PLAGIARISM_SETTINGS,
        ),
        Case(
            "classmate turns plagiarism detection off",
            "intruder",
            "mutation($id: ID!) { setPlagiarismSettings(input: {assessmentId: $id, "
            "enabled: false}) { settings { enabled } } }",
            lambda w: {"id": w.quiz},
            FORBIDDEN,
            PLAGIARISM_SETTINGS,
        ),
    ),
    "Mutation.recheckPlagiarism": (
        Case(
            "classmate asks for a plagiarism re-check",
            "intruder",
            "mutation($id: ID!) { recheckPlagiarism(input: {assessmentId: $id}) { queued } }",
            lambda w: {"id": w.quiz},
            FORBIDDEN,
            PLAGIARISM_SETTINGS,
        ),
        Case(
            "other instructor asks for a plagiarism re-check",
            "other_instructor",
            "mutation($id: ID!) { recheckPlagiarism(input: {assessmentId: $id}) { queued } }",
            lambda w: {"id": w.quiz},
            NOT_FOUND,
            PLAGIARISM_SETTINGS,
        ),
    ),
    # Courses
    "Query.course": (
        Case(
            "student reads another's draft",
            "intruder",
            "query($id: ID!) { course(id: $id) { id title } }",
            lambda w: {"id": w.draft_course},
            NOT_FOUND,
        ),
        Case(
            "other instructor reads another's draft",
            "other_instructor",
            "query($id: ID!) { course(id: $id) { id title } }",
            lambda w: {"id": w.draft_course},
            NOT_FOUND,
        ),
        Case(
            "classmate reads the course's roster",
            "intruder",
            "query($id: ID!) { course(id: $id) { enrollments { edges { node { id } } } } }",
            lambda w: {"id": w.course},
            FORBIDDEN,
        ),
        Case(
            "other instructor reads the course's roster",
            "other_instructor",
            "query($id: ID!) { course(id: $id) { enrollments { edges { node { id } } } } }",
            lambda w: {"id": w.course},
            FORBIDDEN,
        ),
        Case(
            "other instructor reads the course's review history",
            "other_instructor",
            "query($id: ID!) { course(id: $id) { reviews { action comment } } }",
            lambda w: {"id": w.course},
            FORBIDDEN,
        ),
        Case(
            "enrolled student lists a course's assessments: no unpublished one",
            "intruder",
            "query($id: ID!) { course(id: $id) { assessments { id } } }",
            lambda w: {"id": w.course},
            frozenset(),
            leak=lambda w: w.hidden_quiz,
            control="instructor",
        ),
        Case(
            "someone not enrolled lists a course's assessments: none",
            "other_instructor",
            "query($id: ID!) { course(id: $id) { assessments { id } } }",
            lambda w: {"id": w.course},
            frozenset(),
            leak=lambda w: w.quiz,
            control="instructor",
        ),
    ),
    "Query.courses": (
        Case(
            "student filters the catalogue by another's id: no drafts",
            "intruder",
            "query($id: ID!) { courses(first: 100, filter: {instructorId: $id}) "
            "{ edges { node { id } } } }",
            lambda w: {"id": w.id_of("instructor")},
            frozenset(),
            leak=lambda w: w.draft_course,
            control="instructor",
        ),
        Case(
            "student asks for another's drafts by status",
            "intruder",
            "query($id: ID!) { courses(first: 100, filter: {instructorId: $id, status: DRAFT}) "
            "{ edges { node { id } } } }",
            lambda w: {"id": w.id_of("instructor")},
            frozenset(),
            leak=lambda w: w.draft_course,
            control="instructor",
        ),
    ),
    "Query.searchCourses": (
        Case(
            "other instructor searches another's drafts",
            "other_instructor",
            "query($id: ID!, $q: String!) { searchCourses(query: $q, first: 100, "
            "filter: {instructorId: $id}) { edges { node { id } } } }",
            lambda w: {"id": w.id_of("instructor"), "q": DRAFT_TITLE.split()[0]},
            frozenset(),
            leak=lambda w: w.draft_course,
            control="instructor",
        ),
    ),
    "Query.similarCourses": (
        Case(
            "student asks what another's draft is like: nothing, not even that it exists",
            "intruder",
            "query($id: ID!) { similarCourses(courseIds: [$id]) { sourceId course { id } } }",
            lambda w: {"id": w.draft_course},
            frozenset(),
            leak=lambda w: w.draft_course,
        ),
    ),
    "Query.lesson": (
        Case(
            "student reads a lesson of another's draft",
            "intruder",
            "query($id: ID!) { lesson(id: $id) { id title body } }",
            lambda w: {"id": w.draft_lesson},
            NOT_FOUND,
        ),
        Case(
            "student reads the content of a course they are not enrolled in",
            "intruder",
            "query($id: ID!) { lesson(id: $id) { id title body bodyHtml } }",
            lambda w: {"id": w.other_lesson},
            FORBIDDEN,
            leak=lambda w: OTHER_BODY,
            control="other_instructor",
        ),
        Case(
            "enrolled student reads a lesson's version history",
            "intruder",
            "query($id: ID!) { lesson(id: $id) { versions { version body } } }",
            lambda w: {"id": w.lessons[0]},
            FORBIDDEN,
        ),
    ),
    "Mutation.createCourse": (
        Case(
            "instructor names a student co-instructor to read their email",
            "other_instructor",
            "mutation($id: ID!) { createCourse(input: {title: "
            '"Co-teaching bait", coInstructorIds: [$id]}) '
            "{ course { id coInstructors { id email } } } }",
            lambda w: {"id": w.id_of("student")},
            FORBIDDEN,
            PROFILE,
        ),
    ),
    "Mutation.updateCourse": (
        Case(
            "other instructor edits a course",
            "other_instructor",
            "mutation($id: ID!, $v: Int!) { updateCourse(input: {id: $id, version: $v, "
            'title: "Hijacked course"}) { course { id } } }',
            lambda w: {"id": w.course, "v": w.course_version},
            FORBIDDEN,
            COURSE,
        ),
        Case(
            "student edits a course",
            "intruder",
            "mutation($id: ID!, $v: Int!) { updateCourse(input: {id: $id, version: $v, "
            'title: "Hijacked course"}) { course { id } } }',
            lambda w: {"id": w.course, "v": w.course_version},
            FORBIDDEN,
            COURSE,
        ),
        Case(
            "other instructor edits a draft",
            "other_instructor",
            "mutation($id: ID!) { updateCourse(input: {id: $id, version: 1, "
            'title: "Hijacked draft"}) { course { id } } }',
            lambda w: {"id": w.draft_course},
            NOT_FOUND,
            DRAFT,
        ),
    ),
    "Mutation.archiveCourse": (
        Case(
            "other instructor archives a course",
            "other_instructor",
            "mutation($id: ID!) { archiveCourse(input: {id: $id}) { course { id } } }",
            lambda w: {"id": w.course},
            FORBIDDEN,
            COURSE,
        ),
    ),
    "Mutation.submitCourseForReview": (
        Case(
            "other instructor submits a draft for review",
            "other_instructor",
            "mutation($id: ID!) { submitCourseForReview(input: {id: $id}) { course { id } } }",
            lambda w: {"id": w.draft_course},
            NOT_FOUND,
            DRAFT,
        ),
    ),
    "Mutation.approveCourse": (
        Case(
            "instructor approves their own course",
            "instructor",
            "mutation($id: ID!) { approveCourse(input: {id: $id}) { course { id } } }",
            lambda w: {"id": w.review_course},
            FORBIDDEN,
            IN_REVIEW,
        ),
        Case(
            "other instructor approves a course",
            "other_instructor",
            "mutation($id: ID!) { approveCourse(input: {id: $id}) { course { id } } }",
            lambda w: {"id": w.review_course},
            FORBIDDEN,
            IN_REVIEW,
        ),
    ),
    "Mutation.rejectCourse": (
        Case(
            "other instructor rejects a course",
            "other_instructor",
            'mutation($id: ID!) { rejectCourse(input: {id: $id, comment: "Sabotage"}) '
            "{ course { id } } }",
            lambda w: {"id": w.review_course},
            FORBIDDEN,
            IN_REVIEW,
        ),
    ),
    "Mutation.cloneCourse": (
        Case(
            "other instructor copies a published course with its content",
            "other_instructor",
            "mutation($id: ID!) { cloneCourse(input: {id: $id}) { course { id } } }",
            lambda w: {"id": w.course},
            FORBIDDEN,
            TAUGHT_BY_RIVAL,
        ),
        Case(
            "other instructor copies a draft",
            "other_instructor",
            "mutation($id: ID!) { cloneCourse(input: {id: $id}) { course { id } } }",
            lambda w: {"id": w.draft_course},
            NOT_FOUND,
            TAUGHT_BY_RIVAL,
        ),
    ),
    "Mutation.createCourseFromTemplate": (
        Case(
            "other instructor copies another's draft template",
            "other_instructor",
            "mutation($id: ID!) { createCourseFromTemplate(input: {templateId: $id, "
            'title: "From a stolen template"}) { course { id } } }',
            lambda w: {"id": w.draft_course},
            NOT_FOUND,
            TAUGHT_BY_RIVAL,
        ),
    ),
    "Mutation.addModule": (
        Case(
            "other instructor adds a module",
            "other_instructor",
            'mutation($id: ID!) { addModule(input: {courseId: $id, title: "Planted"}) '
            "{ module { id } } }",
            lambda w: {"id": w.course},
            FORBIDDEN,
            COURSE,
        ),
    ),
    "Mutation.updateModule": (
        Case(
            "other instructor renames a module",
            "other_instructor",
            'mutation($id: ID!) { updateModule(input: {id: $id, title: "Renamed"}) '
            "{ module { id } } }",
            lambda w: {"id": w.module},
            FORBIDDEN,
            COURSE,
        ),
        Case(
            "enrolled student renames a module",
            "intruder",
            'mutation($id: ID!) { updateModule(input: {id: $id, title: "Renamed"}) '
            "{ module { id } } }",
            lambda w: {"id": w.module},
            FORBIDDEN,
            COURSE,
        ),
    ),
    "Mutation.deleteModule": (
        Case(
            "other instructor deletes a module",
            "other_instructor",
            "mutation($id: ID!) { deleteModule(input: {id: $id}) { deletedId } }",
            lambda w: {"id": w.module},
            FORBIDDEN,
            COURSE,
        ),
    ),
    "Mutation.reorderModules": (
        Case(
            "other instructor reorders a course's modules",
            "other_instructor",
            "mutation($id: ID!, $m: ID!) { reorderModules(input: {courseId: $id, "
            "moduleIds: [$m]}) { course { id } } }",
            lambda w: {"id": w.course, "m": w.module},
            FORBIDDEN,
            COURSE,
        ),
        Case(
            "other instructor pulls another course's module into their own",
            "other_instructor",
            "mutation($c: ID!, $id: ID!) { reorderModules(input: {courseId: $c, "
            "moduleIds: [$id]}) { course { id } } }",
            lambda w: {"c": w.other_course, "id": w.module},
            BAD_INPUT,
            COURSE,
        ),
    ),
    "Mutation.addLesson": (
        Case(
            "other instructor adds a lesson",
            "other_instructor",
            'mutation($id: ID!) { addLesson(input: {moduleId: $id, title: "Planted"}) '
            "{ lesson { id } } }",
            lambda w: {"id": w.module},
            FORBIDDEN,
            COURSE,
        ),
    ),
    "Mutation.updateLesson": (
        Case(
            "other instructor edits a lesson",
            "other_instructor",
            "mutation($id: ID!) { updateLesson(input: {id: $id, title: "
            '"Renamed", required: false}) { lesson { id } } }',
            lambda w: {"id": w.lessons[0]},
            FORBIDDEN,
            COURSE,
        ),
    ),
    "Mutation.deleteLesson": (
        Case(
            "other instructor deletes a lesson",
            "other_instructor",
            "mutation($id: ID!) { deleteLesson(input: {id: $id}) { deletedId } }",
            lambda w: {"id": w.lessons[1]},
            FORBIDDEN,
            COURSE,
        ),
    ),
    "Mutation.reorderLessons": (
        Case(
            "other instructor reorders a module's lessons",
            "other_instructor",
            "mutation($id: ID!, $a: ID!, $b: ID!) { reorderLessons(input: {moduleId: $id, "
            "lessonIds: [$b, $a]}) { module { id } } }",
            lambda w: {"id": w.module, "a": w.lessons[0], "b": w.lessons[1]},
            FORBIDDEN,
            COURSE,
        ),
        Case(
            "other instructor pulls another course's lessons into their module",
            "other_instructor",
            "mutation($m: ID!, $id: ID!, $mine: ID!) { reorderLessons(input: {moduleId: $m, "
            "lessonIds: [$id, $mine]}) { module { id } } }",
            lambda w: {"m": w.other_module, "id": w.lessons[0], "mine": w.other_lesson},
            BAD_INPUT,
            COURSE,
        ),
    ),
    "Mutation.updateLessonContent": (
        Case(
            "other instructor rewrites a lesson",
            "other_instructor",
            "mutation($id: ID!) { updateLessonContent(input: {lessonId: $id, "
            'body: "Defaced"}) { lesson { id } } }',
            lambda w: {"id": w.lessons[0]},
            FORBIDDEN,
            LESSON,
        ),
        Case(
            "enrolled student rewrites a lesson",
            "intruder",
            "mutation($id: ID!) { updateLessonContent(input: {lessonId: $id, "
            'body: "Defaced"}) { lesson { id } } }',
            lambda w: {"id": w.lessons[0]},
            FORBIDDEN,
            LESSON,
        ),
    ),
    "Mutation.restoreLessonVersion": (
        Case(
            "other instructor restores a lesson version",
            "other_instructor",
            "mutation($id: ID!) { restoreLessonVersion(input: {lessonId: $id, version: 1}) "
            "{ lesson { id } } }",
            lambda w: {"id": w.lessons[0]},
            FORBIDDEN,
            LESSON,
        ),
    ),
    "Mutation.addLessonAttachment": (
        Case(
            "other instructor attaches a file to a lesson",
            "other_instructor",
            "mutation($id: ID!, $file: Upload!) { addLessonAttachment(input: "
            "{lessonId: $id, file: $file}) { attachment { id } } }",
            lambda w: {"id": w.lessons[0]},
            FORBIDDEN,
            LESSON,
            upload=True,
        ),
    ),
    "Mutation.removeLessonAttachment": (
        Case(
            "other instructor removes a lesson's file",
            "other_instructor",
            "mutation($id: ID!) { removeLessonAttachment(input: {id: $id}) { deletedId } }",
            lambda w: {"id": w.attachment},
            FORBIDDEN,
            LESSON,
        ),
    ),
    "Mutation.createCategory": (
        Case(
            "instructor files a category under an administrator's",
            "instructor",
            "mutation($id: ID!) { createCategory(input: {name: "
            '"Planted category", parentId: $id}) { category { id } } }',
            lambda w: {"id": w.category},
            FORBIDDEN,
            CATEGORIES,
        ),
    ),
    # Enrollments
    "Query.enrollment": (
        Case(
            "classmate reads a student's enrollment",
            "intruder",
            "query($id: ID!) { enrollment(id: $id) { id status progress } }",
            lambda w: {"id": w.enrollment},
            NOT_FOUND,
        ),
        Case(
            "other instructor reads a student's enrollment",
            "other_instructor",
            "query($id: ID!) { enrollment(id: $id) { id status progress } }",
            lambda w: {"id": w.enrollment},
            NOT_FOUND,
        ),
        Case(
            "the course's instructor reads the learner's other enrollments through this one",
            "instructor",
            "query($id: ID!) { enrollment(id: $id) { id user { enrollments "
            "{ edges { node { id course { id } } } } } } }",
            lambda w: {"id": w.enrollment},
            FORBIDDEN,
        ),
        Case(
            "the course's instructor reads the learner's email through the enrollment",
            "instructor",
            "query($id: ID!) { enrollment(id: $id) { id user { id email } } }",
            lambda w: {"id": w.enrollment},
            FORBIDDEN,
        ),
        Case(
            "administrator's student-scoped API key reads a student's enrollment",
            "admin_key",
            "query($id: ID!) { enrollment(id: $id) { id status progress } }",
            lambda w: {"id": w.enrollment},
            NOT_FOUND,
        ),
    ),
    "Query.enrollmentStatuses": (
        Case(
            "someone asks for a course a student is in: their own status only",
            "other_instructor",
            "query($id: ID!) { enrollmentStatuses(courseIds: [$id]) { courseId status } }",
            lambda w: {"id": w.course},
            frozenset(),
            leak=lambda w: "ACTIVE",
            control="student",
        ),
    ),
    "Query.courseAnalytics": (
        Case(
            "other instructor reads a course's analytics",
            "other_instructor",
            "query($id: ID!) { courseAnalytics(courseId: $id) { enrolled averageProgress } }",
            lambda w: {"id": w.course},
            FORBIDDEN,
        ),
        Case(
            "other instructor reads another course's cohort through their own course",
            "other_instructor",
            "query($c: ID!, $id: ID!) { courseAnalytics(courseId: $c, cohortId: $id) "
            "{ enrolled } }",
            lambda w: {"c": w.other_course, "id": w.cohort},
            NOT_FOUND,
        ),
    ),
    "Mutation.enroll": (
        Case(
            "student enrols in another's draft",
            "intruder",
            "mutation($id: ID!) { enroll(input: {courseId: $id}) { enrollment { id } } }",
            lambda w: {"id": w.draft_course},
            NOT_FOUND,
            DRAFT,
        ),
    ),
    "Mutation.dropEnrollment": (
        Case(
            "classmate unenrols a student",
            "intruder",
            "mutation($id: ID!) { dropEnrollment(input: {id: $id}) { enrollment { id } } }",
            lambda w: {"id": w.enrollment},
            NOT_FOUND,
            ENROLLMENT,
        ),
        Case(
            "other instructor unenrols a student",
            "other_instructor",
            "mutation($id: ID!) { dropEnrollment(input: {id: $id}) { enrollment { id } } }",
            lambda w: {"id": w.enrollment},
            NOT_FOUND,
            ENROLLMENT,
        ),
        Case(
            "administrator's student-scoped API key unenrols a student",
            "admin_key",
            "mutation($id: ID!) { dropEnrollment(input: {id: $id}) { enrollment { id } } }",
            lambda w: {"id": w.enrollment},
            NOT_FOUND,
            ENROLLMENT,
        ),
    ),
    "Mutation.recordActivity": (
        Case(
            "someone neither enrolled nor teaching records activity in a student's course",
            "other_instructor",
            "mutation($id: ID!, $l: ID!) { recordActivity(input: {verb: VIEWED, courseId: $id, "
            "lessonId: $l}) { statement { id } } }",
            lambda w: {"id": w.course, "l": w.lessons[0]},
            FORBIDDEN,
            COURSE_ACTIVITY,
        ),
        Case(
            "a classmate records activity in a draft",
            "intruder",
            "mutation($id: ID!) { recordActivity(input: {verb: VIEWED, courseId: $id}) "
            "{ statement { id } } }",
            lambda w: {"id": w.draft_course},
            REFUSED,
            Reread(COURSE_ACTIVITY.document, lambda w: {"id": w.draft_course}),
        ),
    ),
    "Mutation.markLessonComplete": (
        Case(
            "someone not enrolled completes a lesson of a student's course",
            "other_instructor",
            "mutation($id: ID!, $l: ID!) { markLessonComplete(input: {courseId: $id, "
            "lessonId: $l}) { enrollment { id } } }",
            lambda w: {"id": w.course, "l": w.lessons[0]},
            FORBIDDEN,
            ENROLLMENT,
        ),
    ),
    "Mutation.enrollUsers": (
        Case(
            "other instructor enrols users in a course",
            "other_instructor",
            "mutation($id: ID!, $u: ID!) { enrollUsers(input: {courseId: $id, userIds: [$u]}) "
            "{ enrolled { id } } }",
            lambda w: {"id": w.course, "u": w.id_of("other_instructor")},
            FORBIDDEN,
            COURSE,
        ),
        Case(
            "other instructor enrols users in a draft",
            "other_instructor",
            "mutation($id: ID!, $u: ID!) { enrollUsers(input: {courseId: $id, userIds: [$u]}) "
            "{ enrolled { id } } }",
            lambda w: {"id": w.draft_course, "u": w.id_of("other_instructor")},
            NOT_FOUND,
            DRAFT,
        ),
    ),
    "Mutation.createLearningPath": (
        Case(
            "other instructor gives a course a prerequisite",
            "other_instructor",
            "mutation($mine: ID!, $id: ID!) { createLearningPath(input: {title: "
            '"Gatekeeping path", courses: [{courseId: $mine}, '
            "{courseId: $id, prerequisiteIds: [$mine]}]}) { learningPath { id } } }",
            lambda w: {"mine": w.other_course, "id": w.course},
            FORBIDDEN,
            LEARNING_PATHS,
        ),
    ),
    "Mutation.createCohort": (
        Case(
            "other instructor adds a cohort to a course",
            "other_instructor",
            "mutation($id: ID!) { createCohort(input: {courseId: $id, name: "
            '"Planted", startsOn: "2027-01-01", endsOn: "2027-02-01"}) { cohort { id } } }',
            lambda w: {"id": w.course},
            FORBIDDEN,
            COURSE,
        ),
    ),
    "Mutation.assignToCohort": (
        Case(
            "other instructor moves a student between a course's cohorts",
            "other_instructor",
            "mutation($id: ID!, $e: ID!) { assignToCohort(input: {cohortId: $id, "
            "enrollmentIds: [$e]}) { enrollments { id } } }",
            lambda w: {"id": w.cohort, "e": w.enrollment},
            FORBIDDEN,
            ENROLLMENT,
        ),
        Case(
            "other instructor pulls a student's enrollment into their own cohort",
            "other_instructor",
            "mutation($c: ID!, $id: ID!) { assignToCohort(input: {cohortId: $c, "
            "enrollmentIds: [$id]}) { enrollments { id } } }",
            lambda w: {"c": w.other_cohort, "id": w.enrollment},
            BAD_INPUT,
            ENROLLMENT,
        ),
    ),
    # Notifications
    "Query.notification": (
        Case(
            "classmate reads a student's notification",
            "intruder",
            "query($id: ID!) { notification(id: $id) { id title body } }",
            lambda w: {"id": w.notification},
            NOT_FOUND,
        ),
    ),
    "Mutation.sendNotification": (
        Case(
            "instructor writes to a student by id",
            "other_instructor",
            "mutation($id: ID!) { sendNotification(input: {category: ANNOUNCEMENT, "
            'userIds: [$id], data: {title: "Phish", message: "Click"}}) { recipientCount } }',
            lambda w: {"id": w.id_of("student")},
            FORBIDDEN,
            ANNOUNCEMENTS,
        ),
        Case(
            "other instructor writes to a course's learners",
            "other_instructor",
            "mutation($id: ID!) { sendNotification(input: {category: ANNOUNCEMENT, "
            'courseId: $id, data: {title: "Phish", message: "Click"}}) { recipientCount } }',
            lambda w: {"id": w.course},
            FORBIDDEN,
            ANNOUNCEMENTS,
        ),
        Case(
            "instructor writes through their own course to a student who is not in it",
            "other_instructor",
            "mutation($c: ID!, $id: ID!) { sendNotification(input: {category: ANNOUNCEMENT, "
            'courseId: $c, userIds: [$id], data: {title: "Phish", message: "Click"}}) '
            "{ recipientCount } }",
            lambda w: {"c": w.other_course, "id": w.id_of("student")},
            FORBIDDEN,
            ANNOUNCEMENTS,
        ),
    ),
    "Mutation.markNotificationRead": (
        Case(
            "classmate marks a student's notification read",
            "intruder",
            "mutation($id: ID!) { markNotificationRead(input: {id: $id}) "
            "{ notification { id title } } }",
            lambda w: {"id": w.notification},
            NOT_FOUND,
            NOTIFICATION,
        ),
    ),
    "Mutation.deleteNotification": (
        Case(
            "classmate deletes a student's notification",
            "intruder",
            "mutation($id: ID!) { deleteNotification(input: {id: $id}) { deletedId } }",
            lambda w: {"id": w.notification},
            NOT_FOUND,
            NOTIFICATION,
        ),
    ),
    # Users
    "Query.user": (
        *(_private_field(name, selection) for name, selection in PRIVATE_USER_FIELDS.items()),
        Case(
            "the learner's instructor reads the learner's email",
            "instructor",
            "query($id: ID!) { user(id: $id) { id email } }",
            lambda w: {"id": w.id_of("student")},
            FORBIDDEN,
        ),
        Case(
            "student lists what another teaches: no drafts",
            "intruder",
            "query($id: ID!) { user(id: $id) { coursesTaught { id } } }",
            lambda w: {"id": w.id_of("instructor")},
            frozenset(),
            leak=lambda w: w.draft_course,
            control="instructor",
        ),
        Case(
            "administrator's student-scoped API key reads a student's email",
            "admin_key",
            "query($id: ID!) { user(id: $id) { id email } }",
            lambda w: {"id": w.id_of("student")},
            FORBIDDEN,
        ),
    ),
    "Query.securityEvents": (
        Case(
            "student reads another's security events",
            "intruder",
            "query($id: ID!) { securityEvents(filter: {userId: $id}) "
            "{ edges { node { id kind clientAddress } } } }",
            lambda w: {"id": w.id_of("student")},
            FORBIDDEN,
        ),
        Case(
            "instructor reads a learner's security events",
            "instructor",
            "query($id: ID!) { securityEvents(filter: {userId: $id}) "
            "{ edges { node { id kind clientAddress } } } }",
            lambda w: {"id": w.id_of("student")},
            FORBIDDEN,
        ),
    ),
    "Mutation.revokeSession": (
        Case(
            "student ends another's session",
            "intruder",
            "mutation($id: ID!) { revokeSession(input: {id: $id}) { revokedSessionId } }",
            lambda w: {"id": w.session},
            NOT_FOUND,
            SESSIONS,
        ),
        Case(
            "instructor ends a learner's session",
            "instructor",
            "mutation($id: ID!) { revokeSession(input: {id: $id}) { revokedSessionId } }",
            lambda w: {"id": w.session},
            NOT_FOUND,
            SESSIONS,
        ),
    ),
    "Mutation.requestDataExport": (
        Case(
            "student exports another's data",
            "intruder",
            "mutation($id: ID!) { requestDataExport(input: {userId: $id}) { dataExport { id } } }",
            lambda w: {"id": w.id_of("student")},
            FORBIDDEN,
            DATA_EXPORTS,
        ),
        Case(
            "the learner's instructor exports the learner's data",
            "instructor",
            "mutation($id: ID!) { requestDataExport(input: {userId: $id}) { dataExport { id } } }",
            lambda w: {"id": w.id_of("student")},
            FORBIDDEN,
            DATA_EXPORTS,
        ),
    ),
    "Mutation.revokeApiKey": (
        Case(
            "student revokes an administrator's API key",
            "intruder",
            "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } } }",
            lambda w: {"id": w.api_key},
            FORBIDDEN,
            API_KEYS,
        ),
        Case(
            "instructor revokes an administrator's API key",
            "instructor",
            "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } } }",
            lambda w: {"id": w.api_key},
            FORBIDDEN,
            API_KEYS,
        ),
    ),
    "Mutation.disableMfa": (
        Case(
            "student turns off another's multi-factor authentication",
            "intruder",
            "mutation($id: ID!, $p: String!) { disableMfa(input: {userId: $id, password: $p}) "
            "{ user { id } } }",
            lambda w: {"id": w.id_of("mfa_user"), "p": "correct-horse-battery"},
            FORBIDDEN,
            GUARDED,
        ),
    ),
    "Mutation.updateProfile": (
        Case(
            "student edits another's profile",
            "intruder",
            "mutation($id: ID!) { updateProfile(input: {userId: $id, name: "
            '"Defaced", bio: "Defaced", preferences: {theme: DARK}}) { user { id } } }',
            lambda w: {"id": w.id_of("student")},
            FORBIDDEN,
            PROFILE,
        ),
        Case(
            "instructor edits a learner's profile",
            "instructor",
            'mutation($id: ID!) { updateProfile(input: {userId: $id, name: "Defaced"}) '
            "{ user { id } } }",
            lambda w: {"id": w.id_of("student")},
            FORBIDDEN,
            PROFILE,
        ),
        Case(
            "administrator's student-scoped API key edits a student's profile",
            "admin_key",
            'mutation($id: ID!) { updateProfile(input: {userId: $id, name: "Defaced"}) '
            "{ user { id } } }",
            lambda w: {"id": w.id_of("student")},
            FORBIDDEN,
            PROFILE,
        ),
    ),
    "Mutation.setUserRoles": (
        Case(
            "student makes themself an administrator",
            "intruder",
            "mutation($id: ID!) { setUserRoles(input: {userId: $id, roles: [ADMIN, STUDENT]}) "
            "{ user { id roles } } }",
            lambda w: {"id": w.id_of("intruder")},
            FORBIDDEN,
            INTRUDER_ROLES,
        ),
        Case(
            "instructor makes a student an instructor",
            "instructor",
            "mutation($id: ID!) { setUserRoles(input: {userId: $id, "
            "roles: [INSTRUCTOR, STUDENT]}) { user { id roles } } }",
            lambda w: {"id": w.id_of("intruder")},
            FORBIDDEN,
            INTRUDER_ROLES,
        ),
    ),
    "Mutation.deleteUser": (
        Case(
            "student deletes another",
            "intruder",
            "mutation($id: ID!) { deleteUser(input: {userId: $id}) { deletedUserId } }",
            lambda w: {"id": w.id_of("student")},
            FORBIDDEN,
            PROFILE,
        ),
        Case(
            "instructor deletes a learner",
            "instructor",
            "mutation($id: ID!) { deleteUser(input: {userId: $id}) { deletedUserId } }",
            lambda w: {"id": w.id_of("student")},
            FORBIDDEN,
            PROFILE,
        ),
        Case(
            "administrator's student-scoped API key deletes a student",
            "admin_key",
            "mutation($id: ID!) { deleteUser(input: {userId: $id}) { deletedUserId } }",
            lambda w: {"id": w.id_of("student")},
            FORBIDDEN,
            PROFILE,
        ),
    ),
}

# Id-taking fields without a case: the ids they take name nothing anyone owns.
NOT_OWNED: dict[str, str] = {
    # Categories are public catalogue structure, listed to everyone, anonymous included.
    "Query.categories": "parentId names a public category",
    # Learning paths are public programmes (`learningPaths` lists every one to anyone); the
    # only personal part, `progress` and `completed`, is always the caller's own.
    "Query.learningPath": "a learning path is public; its progress is the caller's own",
}
