"""GraphQL surface of the enrollments subgraph: thin resolvers over its services."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import strawberry
from strawberry.scalars import JSON

from common.errors import BadUserInput, NotFound
from common.graphql.access import scopes, signed_in
from common.graphql.catalog import visible_course
from common.graphql.costs import ANALYTICS
from common.graphql.ids import graphql_id, parse_id
from common.graphql.relay import PAGED, Connection
from common.graphql.schema import ServiceSchema
from subgraphs.enrollments import certificates
from subgraphs.enrollments.loaders import EnrollmentsInfo
from subgraphs.enrollments.models import CertificateRow, CohortRow, EnrollmentRow, LearningPathRow
from subgraphs.enrollments.programs import PathStep
from subgraphs.enrollments.service import ROSTERS_SCOPE, can_see
from subgraphs.enrollments.service import EnrollmentStatus as EnrollmentStatusValue

EnrollmentStatus = strawberry.enum(EnrollmentStatusValue, name="EnrollmentStatus")


@strawberry.federation.type(keys=["id"])
class Lesson:
    id: strawberry.ID


@strawberry.federation.type(keys=["id"], description="A person using the platform.")
class User:
    id: strawberry.ID

    @strawberry.field(
        description="This user's enrollments (themself and administrators).", directives=[PAGED]
    )
    async def enrollments(
        self,
        info: EnrollmentsInfo,
        first: int | None = None,
        after: str | None = None,
        status: EnrollmentStatus | None = None,  # type: ignore[valid-type]
    ) -> Connection[Enrollment] | None:  # null (with FORBIDDEN) for other callers only
        page = await info.context.service.enrollments.of_user(
            info.context.require_principal(), parse_id(self.id), status, first=first, after=after
        )
        return Connection.from_page(page, enrollment_of)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)


@strawberry.type(description="Enrollment figures of a course, or of one of its cohorts.")
class CourseAnalytics:
    enrolled: int
    active: int
    completed: int
    dropped: int
    completion_rate: float = strawberry.field(description="completed / (active + completed).")
    average_progress: float
    median_days_to_complete: float | None


@strawberry.federation.type(
    keys=["id"], description="A group of a course's learners with start and end dates."
)
class Cohort:
    id: strawberry.ID
    name: str
    starts_on: date
    ends_on: date
    row: strawberry.Private[CohortRow]

    @strawberry.field
    def course(self) -> Course | None:
        return Course(id=graphql_id(self.row.course_id))

    @classmethod
    async def resolve_reference(cls, info: EnrollmentsInfo, id: strawberry.ID) -> Cohort | None:
        """A cohort named by another subgraph (analytics' cohort comparison): as visible as
        its course's list of cohorts."""
        row = await info.context.loaders.cohort.load(parse_id(id))
        return None if row is None else cohort_of(row)


def cohort_of(row: CohortRow) -> Cohort:
    return Cohort(
        id=graphql_id(row.id), name=row.name, starts_on=row.starts_on, ends_on=row.ends_on, row=row
    )


@strawberry.federation.type(keys=["id"], description="A course of the catalogue.")
class Course:
    id: strawberry.ID

    @strawberry.field(description="Learners enrolled (active or completed).")
    async def enrollment_count(self, info: EnrollmentsInfo) -> int | None:
        return await info.context.loaders.count.load(parse_id(self.id)) or 0

    @strawberry.field(
        description="The course's enrollments (its instructors and administrators).",
        directives=[PAGED],
    )
    async def enrollments(
        self,
        info: EnrollmentsInfo,
        first: int | None = None,
        after: str | None = None,
        status: EnrollmentStatus | None = None,  # type: ignore[valid-type]
        cohort_id: strawberry.ID | None = None,
    ) -> Connection[Enrollment] | None:  # a refusal nulls this field, not the course
        facts = await visible_course(info.context.loaders.course, parse_id(self.id), "id")
        page = await info.context.service.enrollments.of_course(
            info.context.require_principal(service_scope=ROSTERS_SCOPE),
            facts,
            status,
            None if cohort_id is None else parse_id(cohort_id, field="cohortId"),
            first=first,
            after=after,
        )
        return Connection.from_page(page, enrollment_of)

    @strawberry.field(description="The course's cohorts.")
    async def cohorts(self, info: EnrollmentsInfo) -> list[Cohort] | None:
        return [
            cohort_of(row) for row in await info.context.loaders.cohorts.load(parse_id(self.id))
        ]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Course:
        return cls(id=id)


@strawberry.type(description="Proof that a learner completed a course.")
class Certificate:
    id: strawberry.ID
    code: str
    course_title: str
    learner_name: str | None
    issued_at: datetime
    credential_jwt: str = strawberry.field(
        description="The Open Badges 3.0 credential as a VC-JWT signed with the certificate "
        "key (its public half: /.well-known/jwks.json of the enrollments service)."
    )
    row: strawberry.Private[CertificateRow]

    @strawberry.field
    def user(self) -> User | None:
        return User(id=graphql_id(self.row.user_id))

    @strawberry.field
    def course(self) -> Course | None:
        return Course(id=graphql_id(self.row.course_id))

    @strawberry.field(description="The Open Badges 3.0 credential (JSON-LD).")
    def credential(self, info: EnrollmentsInfo) -> JSON:
        return JSON(info.context.service.enrollments.verify(self.row))

    @strawberry.field(description="Where anyone can verify this certificate.")
    def verify_url(self, info: EnrollmentsInfo) -> str:
        return info.context.service.enrollments.issuer.verify_url(self.row.code)

    @strawberry.field(description="The certificate as a PDF.")
    def pdf_url(self, info: EnrollmentsInfo) -> str:
        return info.context.service.enrollments.issuer.pdf_url(self.row.code)


def certificate_of(row: CertificateRow) -> Certificate:
    return Certificate(
        id=graphql_id(row.id),
        code=row.code,
        course_title=row.course_title,
        learner_name=row.learner_name,
        issued_at=row.issued_at,
        credential_jwt=row.credential_jwt,
        row=row,
    )


@strawberry.federation.type(keys=["id"], description="A learner in a course.")
class Enrollment:
    id: strawberry.ID
    status: EnrollmentStatus  # type: ignore[valid-type]
    progress: float = strawberry.field(description="Percent of required lessons completed.")
    enrolled_at: datetime
    completed_at: datetime | None
    dropped_at: datetime | None
    last_activity_at: datetime
    row: strawberry.Private[EnrollmentRow]

    @strawberry.field
    def user(self) -> User | None:
        return User(id=graphql_id(self.row.user_id))

    @strawberry.field
    def course(self) -> Course | None:
        return Course(id=graphql_id(self.row.course_id))

    @strawberry.field
    async def completed_lessons(self, info: EnrollmentsInfo) -> list[Lesson] | None:
        lessons = await info.context.loaders.completed_lessons.load(self.row.id)
        return [Lesson(id=graphql_id(item)) for item in lessons]

    @strawberry.field
    async def certificate(self, info: EnrollmentsInfo) -> Certificate | None:
        row = await info.context.loaders.certificate.load(self.row.id)
        return None if row is None else certificate_of(row)

    @strawberry.field
    async def cohort(self, info: EnrollmentsInfo) -> Cohort | None:
        if self.row.cohort_id is None:
            return None
        row = await info.context.loaders.cohort.load(self.row.cohort_id)
        return None if row is None else cohort_of(row)

    @classmethod
    async def resolve_reference(cls, info: EnrollmentsInfo, id: strawberry.ID) -> Enrollment | None:
        row = await info.context.loaders.enrollment.load(parse_id(id))
        if row is None:
            return None
        facts = await info.context.loaders.course.load(row.course_id)
        return enrollment_of(row) if can_see(info.context.require_principal(), row, facts) else None


def enrollment_of(row: EnrollmentRow) -> Enrollment:
    return Enrollment(
        id=graphql_id(row.id),
        status=EnrollmentStatusValue(row.status),
        progress=row.progress,
        enrolled_at=row.enrolled_at,
        completed_at=row.completed_at,
        dropped_at=row.dropped_at,
        last_activity_at=row.last_activity_at,
        row=row,
    )


@strawberry.type
class LearningPathCourse:
    position: int
    course: Course | None
    prerequisites: list[Course] | None
    completed: bool = strawberry.field(description="Whether you have completed this course.")


@strawberry.federation.type(keys=["id"], description="Courses to take in order.")
class LearningPath:
    id: strawberry.ID
    title: str
    description: str
    created_at: datetime
    row: strawberry.Private[LearningPathRow]

    @strawberry.field
    def owner(self) -> User | None:
        return User(id=graphql_id(self.row.owner_id))

    @strawberry.field
    async def courses(self, info: EnrollmentsInfo) -> list[LearningPathCourse]:
        steps = await info.context.loaders.steps.load(self.row.id)
        done = await self._completed(info, [step.course_id for step in steps])
        return [
            LearningPathCourse(
                position=step.position,
                course=Course(id=graphql_id(step.course_id)),
                prerequisites=[Course(id=graphql_id(item)) for item in step.prerequisite_ids],
                completed=step.course_id in done,
            )
            for step in steps
        ]

    @strawberry.field(description="Percent of the path's courses you have completed.")
    async def progress(self, info: EnrollmentsInfo) -> float:
        steps = await info.context.loaders.steps.load(self.row.id)
        if not steps:
            return 0.0
        done = await self._completed(info, [step.course_id for step in steps])
        return round(100.0 * len(done) / len(steps), 2)

    @staticmethod
    async def _completed(info: EnrollmentsInfo, course_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        principal = info.context.caller()
        if principal is None:
            return set()
        return await info.context.service.programs.completed_courses(principal.user_id, course_ids)

    @classmethod
    async def resolve_reference(cls, info: EnrollmentsInfo, id: strawberry.ID) -> LearningPath:
        return path_of(await info.context.service.programs.path(parse_id(id)))


def path_of(row: LearningPathRow) -> LearningPath:
    return LearningPath(
        id=graphql_id(row.id),
        title=row.title,
        description=row.description,
        created_at=row.created_at,
        row=row,
    )


@strawberry.type
class CourseEnrollmentStatus:
    course_id: strawberry.ID
    status: EnrollmentStatus | None  # type: ignore[valid-type]


@strawberry.type
class CertificateVerification:
    valid: bool
    certificate: Certificate | None
    reason: str | None = None


# Inputs and payloads


@strawberry.input
class EnrollInput:
    course_id: strawberry.ID


@strawberry.input
class DropEnrollmentInput:
    id: strawberry.ID


@strawberry.input
class MarkLessonCompleteInput:
    course_id: strawberry.ID
    lesson_id: strawberry.ID


@strawberry.input
class EnrollUsersInput:
    course_id: strawberry.ID
    user_ids: list[strawberry.ID]


@strawberry.input
class LearningPathCourseInput:
    course_id: strawberry.ID
    prerequisite_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Earlier courses of the path to complete first."
    )


@strawberry.input
class CreateLearningPathInput:
    title: str
    description: str = ""
    courses: list[LearningPathCourseInput]


@strawberry.input
class CreateCohortInput:
    course_id: strawberry.ID
    name: str
    starts_on: date
    ends_on: date


@strawberry.input
class AssignToCohortInput:
    cohort_id: strawberry.ID
    enrollment_ids: list[strawberry.ID]


@strawberry.type
class EnrollmentPayload:
    enrollment: Enrollment


@strawberry.type
class LessonCompletionPayload:
    enrollment: Enrollment
    certificate_issued: Certificate | None = strawberry.field(
        description="The certificate, when this lesson completed the course."
    )


@strawberry.type
class EnrollUsersPayload:
    enrolled: list[Enrollment]
    already_enrolled_user_ids: list[strawberry.ID]


@strawberry.type
class LearningPathPayload:
    learning_path: LearningPath


@strawberry.type
class CohortPayload:
    cohort: Cohort


@strawberry.type
class AssignToCohortPayload:
    enrollments: list[Enrollment]


@strawberry.type
class Query:
    @strawberry.field(
        extensions=[signed_in()],
        description="An enrollment you may see (yours, your course's, or admin).",
    )
    async def enrollment(self, info: EnrollmentsInfo, id: strawberry.ID) -> Enrollment:
        row = await info.context.loaders.enrollment.load(parse_id(id))
        facts = None if row is None else await info.context.loaders.course.load(row.course_id)
        return enrollment_of(
            await info.context.service.enrollments.get(
                info.context.require_principal(), parse_id(id), facts
            )
        )

    @strawberry.field(description="Your status in each of these courses (null: not enrolled).")
    async def enrollment_statuses(
        self, info: EnrollmentsInfo, course_ids: list[strawberry.ID]
    ) -> list[CourseEnrollmentStatus] | None:
        ids = [parse_id(item, field="courseIds") for item in course_ids]
        found = await info.context.service.enrollments.statuses(
            info.context.require_principal(), ids
        )
        return [
            CourseEnrollmentStatus(
                course_id=graphql_id(item),
                status=EnrollmentStatusValue(found[item]) if item in found else None,
            )
            for item in ids
        ]

    @strawberry.field(description="Check a certificate by its code (public).")
    async def verify_certificate(self, info: EnrollmentsInfo, code: str) -> CertificateVerification:
        try:
            row = await info.context.service.enrollments.certificate(code)
        except NotFound:
            return CertificateVerification(valid=False, certificate=None, reason="Unknown code.")
        try:
            info.context.service.enrollments.verify(row)
        except certificates.CertificateInvalid as error:
            return CertificateVerification(valid=False, certificate=None, reason=str(error))
        return CertificateVerification(valid=True, certificate=certificate_of(row))

    @strawberry.field
    async def learning_path(self, info: EnrollmentsInfo, id: strawberry.ID) -> LearningPath:
        return path_of(await info.context.service.programs.path(parse_id(id)))

    @strawberry.field
    async def learning_paths(self, info: EnrollmentsInfo) -> list[LearningPath]:
        return [path_of(row) for row in await info.context.service.programs.paths()]

    @strawberry.field(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Figures of a course or one cohort (instructors and admins).",
        directives=[ANALYTICS],
    )
    async def course_analytics(
        self,
        info: EnrollmentsInfo,
        course_id: strawberry.ID,
        cohort_id: strawberry.ID | None = None,
    ) -> CourseAnalytics:
        facts = await visible_course(
            info.context.loaders.course, parse_id(course_id, field="courseId")
        )
        figures = await info.context.service.programs.analytics(
            info.context.require_principal(),
            facts,
            None if cohort_id is None else parse_id(cohort_id, field="cohortId"),
        )
        return CourseAnalytics(
            enrolled=figures.enrolled,
            active=figures.active,
            completed=figures.completed,
            dropped=figures.dropped,
            completion_rate=figures.completion_rate,
            average_progress=figures.average_progress,
            median_days_to_complete=figures.median_days_to_complete,
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=[scopes(["learning:write"])],
        description="Enrol yourself in a published course. Enrolling again while enrolled is "
        "CONFLICT; after dropping, your enrollment becomes active again with its progress.",
    )
    async def enroll(self, info: EnrollmentsInfo, input: EnrollInput) -> EnrollmentPayload:
        facts = await visible_course(
            info.context.loaders.course, parse_id(input.course_id, field="courseId")
        )
        row = await info.context.service.enrollments.enroll(info.context.require_principal(), facts)
        return EnrollmentPayload(enrollment=enrollment_of(row))

    @strawberry.mutation(
        extensions=[signed_in()],
        description="Leave a course (the learner, its instructors or admins).",
    )
    async def drop_enrollment(
        self, info: EnrollmentsInfo, input: DropEnrollmentInput
    ) -> EnrollmentPayload:
        enrollment_id = parse_id(input.id)
        row = await info.context.loaders.enrollment.load(enrollment_id)
        facts = None if row is None else await info.context.loaders.course.load(row.course_id)
        dropped = await info.context.service.enrollments.drop(
            info.context.require_principal(), enrollment_id, facts
        )
        return EnrollmentPayload(enrollment=enrollment_of(dropped))

    @strawberry.mutation(
        extensions=[scopes(["learning:write"])],
        description="Record a lesson as done; progress is recomputed.",
    )
    async def mark_lesson_complete(
        self, info: EnrollmentsInfo, input: MarkLessonCompleteInput
    ) -> LessonCompletionPayload:
        principal = info.context.require_principal()
        facts = await visible_course(
            info.context.loaders.course, parse_id(input.course_id, field="courseId")
        )
        name = await info.context.loaders.user_name.load(principal.user_id)
        enrollment, certificate = await info.context.service.enrollments.complete_lesson(
            principal, facts, parse_id(input.lesson_id, field="lessonId"), name
        )
        return LessonCompletionPayload(
            enrollment=enrollment_of(enrollment),
            certificate_issued=None if certificate is None else certificate_of(certificate),
        )

    @strawberry.mutation(
        extensions=[scopes(["enrollments:manage"], ["admin"])],
        description="Enrol users in a course (its instructors and admins).",
    )
    async def enroll_users(
        self, info: EnrollmentsInfo, input: EnrollUsersInput
    ) -> EnrollUsersPayload:
        principal = info.context.require_principal()
        facts = await visible_course(
            info.context.loaders.course, parse_id(input.course_id, field="courseId")
        )
        user_ids = [parse_id(item, field="userIds") for item in input.user_ids]
        if len(user_ids) > 500:
            raise BadUserInput("userIds must name 1 to 500 users.", field="userIds")
        names = await info.context.loaders.user_name.load_many(user_ids)
        unknown = [str(user) for user, name in zip(user_ids, names, strict=True) if name is None]
        if unknown:
            raise BadUserInput(f"No user has id {', '.join(unknown)}.", field="userIds")
        result = await info.context.service.enrollments.enroll_many(principal, facts, user_ids)
        return EnrollUsersPayload(
            enrolled=[enrollment_of(row) for row in result.enrolled],
            already_enrolled_user_ids=[graphql_id(item) for item in result.already_enrolled],
        )

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="A learning path (instructors and administrators).",
    )
    async def create_learning_path(
        self, info: EnrollmentsInfo, input: CreateLearningPathInput
    ) -> LearningPathPayload:
        steps = [
            PathStep(
                parse_id(step.course_id, field="courses"),
                tuple(parse_id(item, field="courses") for item in step.prerequisite_ids),
            )
            for step in input.courses
        ]
        ids = [step.course_id for step in steps]
        facts = dict(zip(ids, await info.context.loaders.course.load_many(ids), strict=True))
        row = await info.context.service.programs.create_path(
            info.context.require_principal(), input.title, input.description, steps, facts
        )
        return LearningPathPayload(learning_path=path_of(row))

    @strawberry.mutation(extensions=[scopes(["enrollments:manage"], ["admin"])])
    async def create_cohort(self, info: EnrollmentsInfo, input: CreateCohortInput) -> CohortPayload:
        facts = await visible_course(
            info.context.loaders.course, parse_id(input.course_id, field="courseId")
        )
        row = await info.context.service.programs.create_cohort(
            info.context.require_principal(), facts, input.name, input.starts_on, input.ends_on
        )
        return CohortPayload(cohort=cohort_of(row))

    @strawberry.mutation(extensions=[scopes(["enrollments:manage"], ["admin"])])
    async def assign_to_cohort(
        self, info: EnrollmentsInfo, input: AssignToCohortInput
    ) -> AssignToCohortPayload:
        programs = info.context.service.programs
        cohort = await programs.cohort(parse_id(input.cohort_id, field="cohortId"))
        facts = await visible_course(info.context.loaders.course, cohort.course_id)
        rows = await programs.assign(
            info.context.require_principal(),
            facts,
            cohort,
            [parse_id(item, field="enrollmentIds") for item in input.enrollment_ids],
        )
        return AssignToCohortPayload(enrollments=[enrollment_of(row) for row in rows])


schema = ServiceSchema(
    query=Query, mutation=Mutation, types=[User, Course, Enrollment, Lesson, LearningPath]
)
