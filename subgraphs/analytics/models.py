"""Tables of the analytics subgraph, all in schema "analytics".

`statements` holds learning activity in the xAPI shape, partitioned by month on its
timestamp (PostgreSQL declarative partitioning; `partitions.py` creates months ahead and
drops those past the retention). A partitioned table's unique keys must include the
partition key, so `statement_ids` is the one register of ids, which makes a statement
recorded twice (a redelivered event, a client's retry) a no-op.

The daily aggregates are kept up to date in the same transaction as each statement:
per course and day, per learner, course and day, per course and week (active learners),
per lesson and day, and per learner and course (first and last seen, mean score, progress),
per learner and lesson (reached, completed), per graded attempt, and per question and day.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import schema_metadata
from common.events.tables import event_tables

SCHEMA = "analytics"


class Base(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


# The months' partitions of `statements` are made by the service (partitions.py), not by
# migrations: Alembic's comparison of models and schema leaves them out.
Base.metadata.info["unmanaged_tables"] = r"statements_\d{4}_\d{2}"


EVENTS = event_tables(Base.metadata)  # outbox and inbox: see common/events


class StatementRow(Base):
    __tablename__ = "statements"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    actor_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    verb: Mapped[str] = mapped_column(String(40))  # the ADL verb's name (verbs.py has its IRI)
    object_type: Mapped[str] = mapped_column(String(20))  # course, module, lesson, assessment…
    object_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    course_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    registration: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))  # enrollment
    score_scaled: Mapped[float | None] = mapped_column(Float)
    score_raw: Mapped[float | None] = mapped_column(Float)
    score_max: Mapped[float | None] = mapped_column(Float)
    success: Mapped[bool | None] = mapped_column(Boolean)
    completion: Mapped[bool | None] = mapped_column(Boolean)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    progress: Mapped[float | None] = mapped_column(Float)  # 0..1, a video or a lesson
    extensions: Mapped[dict[str, object]] = mapped_column(JSONB, server_default="{}")
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stored: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        PrimaryKeyConstraint("id", "timestamp"),
        Index("ix_statements_course_timestamp", "course_id", "timestamp"),
        Index("ix_statements_actor_timestamp", "actor_id", "timestamp"),
        {"postgresql_partition_by": "RANGE (timestamp)"},
    )


class StatementIdRow(Base):
    """Every stored statement's id (and where to find it), unique across partitions."""

    __tablename__ = "statement_ids"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    actor_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class DayCounts:
    """What a day's statements add up to: views (viewed, launched), lesson completions,
    attempts, seconds on task, and the graded attempts' count and sum of scaled scores."""

    statements: Mapped[int] = mapped_column(Integer, server_default="0")
    views: Mapped[int] = mapped_column(Integer, server_default="0")
    completions: Mapped[int] = mapped_column(Integer, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    seconds: Mapped[int] = mapped_column(Integer, server_default="0")
    scores: Mapped[int] = mapped_column(Integer, server_default="0")
    score_sum: Mapped[float] = mapped_column(Float, server_default="0")


class CourseDayRow(DayCounts, Base):
    __tablename__ = "course_days"

    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class LearnerDayRow(DayCounts, Base):
    __tablename__ = "learner_days"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # The enrollment's progress as last reported that day (lesson.completed), if it was.
    progress: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (Index("ix_learner_days_course_day", "course_id", "day"),)


class LearnerWeekRow(Base):
    """That a learner was active in a course in a week (from its Monday): what makes the
    course's weekly count of active learners incremental."""

    __tablename__ = "learner_weeks"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    week: Mapped[date] = mapped_column(Date, primary_key=True)


class CourseWeekRow(Base):
    __tablename__ = "course_weeks"

    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    learners: Mapped[int] = mapped_column(Integer, server_default="0")


class LessonDayRow(Base):
    __tablename__ = "lesson_days"

    lesson_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    views: Mapped[int] = mapped_column(Integer, server_default="0")
    completions: Mapped[int] = mapped_column(Integer, server_default="0")
    seconds: Mapped[int] = mapped_column(Integer, server_default="0")

    __table_args__ = (Index("ix_lesson_days_course_day", "course_id", "day"),)


class LearnerCourseRow(Base):
    __tablename__ = "learner_courses"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scores: Mapped[int] = mapped_column(Integer, server_default="0")
    score_sum: Mapped[float] = mapped_column(Float, server_default="0")
    progress: Mapped[float] = mapped_column(Float, server_default="0")  # the enrollment's
    # set by enrollment.dropped, cleared by a later enrollment.created (re-enrolling)
    dropped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_learner_courses_course_last_seen", "course_id", "last_seen"),)


class LearnerLessonRow(Base):
    __tablename__ = "learner_lessons"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    lesson_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    reached_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_learner_lessons_course", "course_id", "lesson_id"),)


class CourseLearnersRow(Base):
    """How many learners took a course (recommendations' popularity and cosine norms), kept
    with `learner_courses`: one more when a learner's row for the course is new."""

    __tablename__ = "course_learners"

    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    learners: Mapped[int] = mapped_column(Integer, server_default="0")

    __table_args__ = (Index("ix_course_learners_learners", "learners"),)


class CoursePairRow(Base):
    """Learners who took both courses of an ordered pair, and how many of them completed the
    source: the co-enrollment counts of item-based collaborative filtering, kept with
    `learner_courses` (recommendations/pairs.py). They name no one, so erasing a learner
    leaves them, as it leaves the course totals."""

    __tablename__ = "course_pairs"

    source_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    target_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    learners: Mapped[int] = mapped_column(Integer, server_default="0")  # took both
    completed: Mapped[int] = mapped_column(Integer, server_default="0")


class AtRiskModelRow(Base):
    """A trained at-risk model (at_risk/model.py's JSON), numbered per deployment (one
    deployment is one institution). At most one is active: the one scores come from."""

    __tablename__ = "at_risk_models"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    digest: Mapped[str] = mapped_column(String(32))  # AtRiskModel.version: what was trained
    trained_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    training_size: Mapped[int] = mapped_column(Integer)  # completed enrollments
    metrics: Mapped[dict[str, float]] = mapped_column(JSONB)
    model: Mapped[str] = mapped_column(Text)  # AtRiskModel.to_json()
    active: Mapped[bool] = mapped_column(Boolean, server_default="false")

    __table_args__ = (
        Index(
            "ix_at_risk_models_one_active",
            "active",
            unique=True,
            postgresql_where=text("active"),
        ),
    )


class AtRiskScoreRow(Base):
    """The latest prediction for an active enrollment (a learner in a course). `flagged_at`
    is when its probability last rose to the flag (at_risk_service.FLAG) from below, and
    `reported_at` when an instructors' digest named it since: what makes "new at-risk
    learners" answerable, once each."""

    __tablename__ = "at_risk_scores"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    probability: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSONB)
    model_version: Mapped[int] = mapped_column(Integer)
    scored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    flagged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_at_risk_scores_course_probability", "course_id", "probability"),)


class AtRiskRunRow(Base):
    """When each scheduled at-risk job (train, score, digest) last ran, so that a restarted
    worker keeps the schedule instead of running everything again."""

    __tablename__ = "at_risk_runs"

    job: Mapped[str] = mapped_column(String(20), primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LearnerAttemptRow(Base):
    """A learner's graded attempt (the last grade of it, when regraded): their grades over
    time, and what an attempt added to its questions' counts (`items`), taken back when it
    is graded again."""

    __tablename__ = "learner_attempts"

    attempt_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    assessment_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    graded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    score_scaled: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    items: Mapped[list[dict[str, object]]] = mapped_column(JSONB, server_default="[]")

    __table_args__ = (
        Index("ix_learner_attempts_user_course_graded", "user_id", "course_id", "graded_at"),
    )


class ItemDayRow(Base):
    """One question of one assessment on one day: graded answers, correct ones, the sum of
    their scaled points, and sums of the attempts' scaled totals (all, squared, of the
    correct answers) from which the point-biserial discrimination of any span is computed."""

    __tablename__ = "item_days"

    question_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    assessment_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # The day's week (its Monday) and month (its first), grouped by as columns: date_trunc
    # of every row made reading a year of a course's questions 3x slower.
    week: Mapped[date] = mapped_column(Date)
    month: Mapped[date] = mapped_column(Date)
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    answers: Mapped[int] = mapped_column(Integer, server_default="0")
    correct: Mapped[int] = mapped_column(Integer, server_default="0")
    score_sum: Mapped[float] = mapped_column(Float, server_default="0")
    total_sum: Mapped[float] = mapped_column(Float, server_default="0")
    total_squares: Mapped[float] = mapped_column(Float, server_default="0")
    correct_total_sum: Mapped[float] = mapped_column(Float, server_default="0")

    __table_args__ = (Index("ix_item_days_course_day", "course_id", "day"),)


class LearnerCohortRow(Base):
    """The cohort a learner's enrollment is in (enrollment.cohort_assigned)."""

    __tablename__ = "learner_cohorts"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    cohort_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
