"""Tables of adaptive testing, in schema "assessments": an assessment's adaptive settings,
each question's calibrated parameters, and each adaptive attempt's running estimate."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from subgraphs.assessments.models import Base


class AdaptiveSettingsRow(Base):
    """An ADAPTIVE assessment: its slots are the item pool (and the draws' counts the content
    shares); the test stops at `target_se`, at `max_items` or at the time limit."""

    __tablename__ = "adaptive_settings"

    assessment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("assessments.assessments.id", ondelete="CASCADE"),
        primary_key=True,
    )
    target_se: Mapped[float] = mapped_column(Float)
    max_items: Mapped[int] = mapped_column(Integer)
    randomesque: Mapped[int] = mapped_column(Integer)
    max_exposure: Mapped[float] = mapped_column(Float)
    scale_low: Mapped[float] = mapped_column(Float)
    scale_high: Mapped[float] = mapped_column(Float)


class ItemParametersRow(Base):
    """A question's IRT parameters from the last calibration: `model` 2PL or 3PL, or PRIOR
    (fewer responses than the minimum: a, b, c then come from the authored difficulty)."""

    __tablename__ = "item_parameters"

    question_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("assessments.questions.id", ondelete="CASCADE"),
        primary_key=True,
    )
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    model: Mapped[str] = mapped_column(String(5))
    a: Mapped[float] = mapped_column(Float)
    b: Mapped[float] = mapped_column(Float)
    c: Mapped[float] = mapped_column(Float)
    se_a: Mapped[float | None] = mapped_column(Float)
    se_b: Mapped[float | None] = mapped_column(Float)
    se_c: Mapped[float | None] = mapped_column(Float)
    responses: Mapped[int] = mapped_column(Integer)
    calibrated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_item_parameters_course", "course_id"),)


class AdaptiveStateRow(Base):
    """The ability estimate of an adaptive attempt after its last answer."""

    __tablename__ = "adaptive_states"

    attempt_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("assessments.attempts.id", ondelete="CASCADE"),
        primary_key=True,
    )
    theta: Mapped[float] = mapped_column(Float)
    standard_error: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(3))
    items: Mapped[int] = mapped_column(Integer)
    stop_reason: Mapped[str | None] = mapped_column(String(20))
