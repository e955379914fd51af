"""Use cases of enrollment: enrol, drop, complete lessons, progress, certificates.

Course facts (status, instructors, lessons) come from the courses subgraph through the
caller's eyes (see catalog.py); every rule about who may do what is checked here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from joserfc.jwk import RSAKey
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import clock
from common.auth import Principal
from common.db.batches import rows_by_id
from common.db.inserts import insert_missing
from common.db.pagination import Page, fetch_page
from common.errors import BadUserInput, Conflict, Forbidden, NotFound
from common.events.envelope import Event
from common.events.outbox import emit
from common.graphql.catalog import CourseFacts
from common.telemetry import tracing
from common.telemetry.metrics import business_event
from subgraphs.enrollments import certificates
from subgraphs.enrollments.models import (
    EVENTS,
    AssessmentResultRow,
    CertificateRow,
    CourseAssessmentRow,
    EnrollmentRow,
    LessonCompletionRow,
    PathCourseRow,
)

MAX_BULK = 500
OPEN_FOR_ENROLLMENT = "PUBLISHED"


class EnrollmentStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    DROPPED = "DROPPED"


COUNTED = (EnrollmentStatus.ACTIVE.value, EnrollmentStatus.COMPLETED.value)


@dataclass(frozen=True, slots=True)
class Issuer:
    """Who signs certificates, and where they are verified."""

    key: RSAKey
    name: str
    url: str
    verify_url: Callable[[str], str]
    pdf_url: Callable[[str], str]


@dataclass(frozen=True, slots=True)
class BulkResult:
    enrolled: list[EnrollmentRow]
    already_enrolled: list[uuid.UUID]


def _created_event(enrollment: EnrollmentRow, course: CourseFacts) -> Event:
    return Event(
        "enrollment.created",
        {
            "enrollment_id": str(enrollment.id),
            "user_id": str(enrollment.user_id),
            "course_id": str(course.id),
            "course_title": course.title,
        },
        "enrollments",
    )


ROSTERS_SCOPE = "enrollments:rosters"  # a service's, to read any course's learners


def can_manage(principal: Principal, course: CourseFacts) -> bool:
    """The course's instructors and administrators manage its enrollments."""
    return principal.is_admin or course.taught_by(principal.user_id)


def can_see(principal: Principal, enrollment: EnrollmentRow, course: CourseFacts | None) -> bool:
    if principal.is_admin or enrollment.user_id == principal.user_id:
        return True
    return course is not None and course.taught_by(principal.user_id)


class EnrollmentsService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], issuer: Issuer) -> None:
        self.sessions = sessions
        self.issuer = issuer

    # Enrolling and dropping

    async def enroll(self, principal: Principal, course: CourseFacts) -> EnrollmentRow:
        """Enrol the caller. Enrolling again while enrolled is CONFLICT; after dropping, the
        same enrollment becomes active again with its progress kept."""
        if course.status != OPEN_FOR_ENROLLMENT:
            raise Forbidden(
                f"Only published courses take enrollments; this one is {course.status}."
            )
        async with self.sessions.begin() as session:
            await self._check_prerequisites(session, principal.user_id, course)
            existing = await session.scalar(
                select(EnrollmentRow)
                .where(
                    EnrollmentRow.user_id == principal.user_id,
                    EnrollmentRow.course_id == course.id,
                )
                .with_for_update()
            )
            if existing is not None:
                if existing.status != EnrollmentStatus.DROPPED.value:
                    raise Conflict(
                        f"You are already enrolled in this course ({existing.status}).",
                        field="courseId",
                    )
                existing.status = EnrollmentStatus.ACTIVE.value
                existing.dropped_at = None
                existing.last_activity_at = clock.now()
                await emit(session, EVENTS.outbox, _created_event(existing, course))
                business_event(session, "enrollments", "enrollment")
                return existing
            enrollment = self._new(principal.user_id, course.id, principal.user_id)
            session.add(enrollment)
            await session.flush()
            await emit(session, EVENTS.outbox, _created_event(enrollment, course))
            business_event(session, "enrollments", "enrollment")
            return enrollment

    async def _check_prerequisites(
        self, session: AsyncSession, user_id: uuid.UUID, course: CourseFacts
    ) -> None:
        required = set()
        for row in await session.scalars(
            select(PathCourseRow).where(PathCourseRow.course_id == course.id)
        ):
            required.update(row.prerequisite_ids)
        if not required:
            return
        completed = set(
            await session.scalars(
                select(EnrollmentRow.course_id).where(
                    EnrollmentRow.user_id == user_id,
                    EnrollmentRow.course_id.in_(required),
                    EnrollmentRow.status == EnrollmentStatus.COMPLETED.value,
                )
            )
        )
        missing = required - completed
        if missing:
            listed = ", ".join(sorted(str(item) for item in missing))
            raise Forbidden(f"Complete the prerequisite courses first: {listed}.", field="courseId")

    async def enroll_many(
        self, principal: Principal, course: CourseFacts, user_ids: Sequence[uuid.UUID]
    ) -> BulkResult:
        """Enrol others (the course's instructors and administrators); idempotent per user."""
        if not can_manage(principal, course):
            raise Forbidden("Only the course's instructors and administrators enrol others.")
        if course.status not in (OPEN_FOR_ENROLLMENT, "DRAFT", "IN_REVIEW"):
            raise Forbidden(f"An {course.status} course takes no enrollments.")
        unique = list(dict.fromkeys(user_ids))
        if not unique or len(unique) > MAX_BULK:
            raise BadUserInput(f"userIds must name 1 to {MAX_BULK} users.", field="userIds")
        async with self.sessions.begin() as session:
            rows = [
                {
                    "id": uuid.uuid4(),
                    "user_id": user_id,
                    "course_id": course.id,
                    "status": EnrollmentStatus.ACTIVE.value,
                    "progress": 0.0,
                    "enrolled_by": principal.user_id,
                }
                for user_id in unique
            ]
            inserted = await insert_missing(
                session, EnrollmentRow.id, rows, key=["user_id", "course_id"]
            )
            enrolled = list(
                await session.scalars(select(EnrollmentRow).where(EnrollmentRow.id.in_(inserted)))
            )
            await emit(session, EVENTS.outbox, *(_created_event(row, course) for row in enrolled))
            business_event(session, "enrollments", "enrollment", len(enrolled))
        new_users = {row.user_id for row in enrolled}
        return BulkResult(enrolled, [user for user in unique if user not in new_users])

    async def drop(
        self, principal: Principal, enrollment_id: uuid.UUID, course: CourseFacts | None
    ) -> EnrollmentRow:
        async with self.sessions.begin() as session:
            enrollment = await self._visible(session, principal, enrollment_id, course, lock=True)
            if enrollment.user_id != principal.user_id and not (
                course is not None and can_manage(principal, course)
            ):
                raise Forbidden("Only the learner, the course's instructors or an admin can drop.")
            if enrollment.status != EnrollmentStatus.ACTIVE.value:
                raise Conflict(
                    f"Only an active enrollment can be dropped; this one is {enrollment.status}."
                )
            enrollment.status = EnrollmentStatus.DROPPED.value
            enrollment.dropped_at = clock.now()
            # analytics stops counting the learner as active (at risk, inactive, cohorts)
            await emit(
                session,
                EVENTS.outbox,
                Event(
                    "enrollment.dropped",
                    {
                        "enrollment_id": str(enrollment.id),
                        "user_id": str(enrollment.user_id),
                        "course_id": str(enrollment.course_id),
                    },
                    "enrollments",
                ),
            )
            return enrollment

    # Progress

    async def complete_lesson(
        self,
        principal: Principal,
        course: CourseFacts,
        lesson_id: uuid.UUID,
        learner_name: str | None,
    ) -> tuple[EnrollmentRow, CertificateRow | None]:
        """Record a lesson as done (idempotent) and recompute progress; at 100% the
        enrollment completes and its certificate is issued, in the same transaction."""
        if lesson_id not in course.lesson_ids:
            raise BadUserInput("That lesson is not part of this course.", field="lessonId")
        async with self.sessions.begin() as session:
            enrollment = await session.scalar(
                select(EnrollmentRow)
                .where(
                    EnrollmentRow.user_id == principal.user_id,
                    EnrollmentRow.course_id == course.id,
                )
                .with_for_update()
            )
            if enrollment is None or enrollment.status == EnrollmentStatus.DROPPED.value:
                raise Forbidden("Enroll in the course first.", field="lessonId")
            await session.execute(
                insert(LessonCompletionRow)
                .values(enrollment_id=enrollment.id, lesson_id=lesson_id)
                .on_conflict_do_nothing()
            )
            enrollment.last_activity_at = clock.now()
            certificate = await self.recompute(session, enrollment, course, learner_name)
            await emit(
                session,
                EVENTS.outbox,
                Event(
                    "lesson.completed",
                    {
                        "enrollment_id": str(enrollment.id),
                        "user_id": str(enrollment.user_id),
                        "course_id": str(course.id),
                        "lesson_id": str(lesson_id),
                        "progress": enrollment.progress,
                    },
                    "enrollments",
                ),
            )
            return enrollment, certificate

    async def recompute(
        self,
        session: AsyncSession,
        enrollment: EnrollmentRow,
        course: CourseFacts,
        learner_name: str | None,
    ) -> CertificateRow | None:
        """Progress = done / all, over the required lessons (all lessons when none is
        required) and the course's published assessments (passed ones are done). At 100 %
        an active enrollment completes and its certificate is issued, in this transaction."""
        done = set(
            await session.scalars(
                select(LessonCompletionRow.lesson_id).where(
                    LessonCompletionRow.enrollment_id == enrollment.id
                )
            )
        )
        assessments = set(
            await session.scalars(
                select(CourseAssessmentRow.assessment_id).where(
                    CourseAssessmentRow.course_id == course.id, CourseAssessmentRow.published
                )
            )
        )
        passed = set(
            await session.scalars(
                select(AssessmentResultRow.assessment_id).where(
                    AssessmentResultRow.user_id == enrollment.user_id,
                    AssessmentResultRow.course_id == course.id,
                    AssessmentResultRow.passed,
                )
            )
        )
        counted = course.counted_lessons
        total = len(counted) + len(assessments)
        finished = len(done & counted) + len(passed & assessments)
        enrollment.progress = round(100.0 * finished / total, 2) if total else 0.0
        if enrollment.progress < 100.0 or enrollment.status != EnrollmentStatus.ACTIVE.value:
            return None
        enrollment.status = EnrollmentStatus.COMPLETED.value
        enrollment.completed_at = clock.now()
        with tracing.span("certificate issued", {"lms.course.id": str(course.id)}):
            return await self._issue(session, enrollment, course, learner_name)

    async def _issue(
        self,
        session: AsyncSession,
        enrollment: EnrollmentRow,
        course: CourseFacts,
        learner_name: str | None,
    ) -> CertificateRow:
        """The completed enrollment's certificate, and its events in the outbox."""
        certificate = self._certificate(enrollment, course, learner_name)
        session.add(certificate)
        ids = {
            "enrollment_id": str(enrollment.id),
            "user_id": str(enrollment.user_id),
            "course_id": str(course.id),
        }
        await emit(
            session,
            EVENTS.outbox,
            Event("enrollment.completed", ids, "enrollments"),
            Event(
                "certificate.issued",
                {
                    "certificate_id": str(certificate.id),
                    "user_id": str(enrollment.user_id),
                    "course_id": str(course.id),
                    "code": certificate.code,
                    "course_title": course.title,
                },
                "enrollments",
            ),
        )
        business_event(session, "enrollments", "certificate_issued")
        return certificate

    def _certificate(
        self, enrollment: EnrollmentRow, course: CourseFacts, learner_name: str | None
    ) -> CertificateRow:
        code = certificates.new_code()
        issued_at = enrollment.completed_at or clock.now()
        facts = certificates.CertificateFacts(
            code=code,
            learner_id=enrollment.user_id,
            learner_name=learner_name,
            course_id=course.id,
            course_title=course.title,
            issued_at=issued_at,
            issuer_name=self.issuer.name,
            issuer_url=self.issuer.url,
            verify_url=self.issuer.verify_url(code),
        )
        token = certificates.sign_credential(
            certificates.credential(facts), self.issuer.key, issuer=self.issuer.url
        )
        return CertificateRow(
            id=uuid.uuid4(),
            enrollment_id=enrollment.id,
            user_id=enrollment.user_id,
            course_id=course.id,
            code=code,
            learner_name=learner_name,
            course_title=course.title,
            credential_jwt=token,
            issued_at=issued_at,
        )

    def verify(self, row: CertificateRow) -> dict[str, Any]:
        """The certificate's credential claims, checked against the certificate key."""
        claims = certificates.verify_credential(
            row.credential_jwt, [self.issuer.key], issuer=self.issuer.url
        )
        for registered in ("iss", "sub", "jti", "iat", "nbf"):
            claims.pop(registered, None)
        return claims

    def facts_of(self, row: CertificateRow) -> certificates.CertificateFacts:
        return certificates.CertificateFacts(
            code=row.code,
            learner_id=row.user_id,
            learner_name=row.learner_name,
            course_id=row.course_id,
            course_title=row.course_title,
            issued_at=row.issued_at,
            issuer_name=self.issuer.name,
            issuer_url=self.issuer.url,
            verify_url=self.issuer.verify_url(row.code),
        )

    # Reading

    async def get(
        self, principal: Principal, enrollment_id: uuid.UUID, course: CourseFacts | None
    ) -> EnrollmentRow:
        async with self.sessions() as session:
            return await self._visible(session, principal, enrollment_id, course)

    async def of_user(
        self,
        principal: Principal,
        user_id: uuid.UUID,
        status: EnrollmentStatus | None,
        *,
        first: int | None,
        after: str | None,
    ) -> Page[EnrollmentRow]:
        if not principal.is_self_or_admin(user_id):
            raise Forbidden("You can only list your own enrollments.")
        query = select(EnrollmentRow).where(EnrollmentRow.user_id == user_id)
        if status is not None:
            query = query.where(EnrollmentRow.status == status.value)
        async with self.sessions() as session:
            return await fetch_page(
                session,
                query,
                created_at=EnrollmentRow.created_at,
                row_id=EnrollmentRow.id,
                first=first,
                after=after,
            )

    async def of_course(
        self,
        principal: Principal,
        course: CourseFacts,
        status: EnrollmentStatus | None,
        cohort_id: uuid.UUID | None,
        *,
        first: int | None,
        after: str | None,
    ) -> Page[EnrollmentRow]:
        if not (can_manage(principal, course) or principal.service_may(ROSTERS_SCOPE)):
            raise Forbidden("Only the course's instructors and administrators see its learners.")
        query = select(EnrollmentRow).where(EnrollmentRow.course_id == course.id)
        if status is not None:
            query = query.where(EnrollmentRow.status == status.value)
        if cohort_id is not None:
            query = query.where(EnrollmentRow.cohort_id == cohort_id)
        async with self.sessions() as session:
            return await fetch_page(
                session,
                query,
                created_at=EnrollmentRow.created_at,
                row_id=EnrollmentRow.id,
                first=first,
                after=after,
            )

    async def statuses(
        self, principal: Principal, course_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, str]:
        if len(course_ids) > 500:
            raise BadUserInput("Ask for at most 500 courses at once.", field="courseIds")
        async with self.sessions() as session:
            rows = await session.execute(
                select(EnrollmentRow.course_id, EnrollmentRow.status).where(
                    EnrollmentRow.user_id == principal.user_id,
                    EnrollmentRow.course_id.in_(course_ids),
                )
            )
            return {row[0]: row[1] for row in rows}

    async def counts(self, course_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(EnrollmentRow.course_id, func.count())
                .where(EnrollmentRow.course_id.in_(course_ids), EnrollmentRow.status.in_(COUNTED))
                .group_by(EnrollmentRow.course_id)
            )
            return {row[0]: row[1] for row in rows}

    async def by_ids(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, EnrollmentRow]:
        return await rows_by_id(self.sessions, EnrollmentRow, ids)

    async def completed_lessons(
        self, enrollment_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(LessonCompletionRow.enrollment_id, LessonCompletionRow.lesson_id)
                .where(LessonCompletionRow.enrollment_id.in_(enrollment_ids))
                .order_by(LessonCompletionRow.completed_at)
            )
            grouped: dict[uuid.UUID, list[uuid.UUID]] = {}
            for enrollment_id, lesson_id in rows:
                grouped.setdefault(enrollment_id, []).append(lesson_id)
            return grouped

    async def certificates_of(
        self, enrollment_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, CertificateRow]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(CertificateRow).where(CertificateRow.enrollment_id.in_(enrollment_ids))
            )
            return {row.enrollment_id: row for row in rows}

    async def certificate(self, code: str) -> CertificateRow:
        normalised = certificates.normalise_code(code)
        if normalised is None:
            raise BadUserInput("That is not a certificate code.", field="code")
        async with self.sessions() as session:
            row = await session.scalar(
                select(CertificateRow).where(CertificateRow.code == normalised)
            )
        if row is None:
            raise NotFound("No certificate has this code.", field="code")
        return row

    # Shared steps

    @staticmethod
    def _new(user_id: uuid.UUID, course_id: uuid.UUID, by: uuid.UUID) -> EnrollmentRow:
        now = clock.now()
        return EnrollmentRow(
            id=uuid.uuid4(),
            user_id=user_id,
            course_id=course_id,
            status=EnrollmentStatus.ACTIVE.value,
            progress=0.0,
            enrolled_by=by,
            created_at=now,
            enrolled_at=now,
            last_activity_at=now,
        )

    async def _visible(
        self,
        session: AsyncSession,
        principal: Principal,
        enrollment_id: uuid.UUID,
        course: CourseFacts | None,
        *,
        lock: bool = False,
    ) -> EnrollmentRow:
        enrollment = await session.get(EnrollmentRow, enrollment_id, with_for_update=lock)
        if enrollment is None or not can_see(principal, enrollment, course):
            raise NotFound(f"No enrollment has id {enrollment_id}.", field="id")
        return enrollment
