"""Plagiarism detection's tables, in schema "assessments".

Per checked answer (attempt, question): its winnowed fingerprints, one row each and indexed by
(question, hash), and for text its LSH band keys, indexed by (question, key); so a new answer
finds the answers sharing its fingerprints or bands by index lookups. The matches found are
kept in both directions, with the spans and the method that found them. An essay's sentence
embeddings (paraphrase detection, when the `ai` extra is installed) are one row per answer:
float32 bytes, one 384-wide row per sentence, and their mean direction for finding candidates.
Everything goes with its attempt
(ON DELETE CASCADE: a learner's erasure removes it).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from common.db.metadata import created_timestamp
from subgraphs.assessments.models import Base

_ATTEMPT = "assessments.attempts.id"


class PlagiarismSettingsRow(Base):
    """An assessment's switch, thresholds and the questions left out (no row: on, defaults)."""

    __tablename__ = "plagiarism_settings"

    assessment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("assessments.assessments.id", ondelete="CASCADE"),
        primary_key=True,
    )
    enabled: Mapped[bool] = mapped_column(Boolean, server_default="true")
    code_threshold: Mapped[float] = mapped_column(Float)
    text_threshold: Mapped[float] = mapped_column(Float)
    excluded_question_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), server_default="{}"
    )
    updated_at: Mapped[datetime] = created_timestamp()


class CheckedAnswerRow(Base):
    __tablename__ = "plagiarism_answers"

    attempt_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(_ATTEMPT, ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str] = mapped_column(String(4))
    fingerprint_count: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float, server_default="0")
    stages: Mapped[list[str]] = mapped_column(
        ARRAY(String(11)), server_default="{FINGERPRINT}"
    )  # the Method values that ran
    checked_at: Mapped[datetime] = created_timestamp()

    __table_args__ = (Index("ix_plagiarism_answers_question", "question_id"),)


class FingerprintRow(Base):
    __tablename__ = "plagiarism_fingerprints"

    attempt_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(_ATTEMPT, ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    hash: Mapped[int] = mapped_column(BigInteger)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_plagiarism_fingerprints_lookup", "question_id", "hash"),)


class BandRow(Base):
    __tablename__ = "plagiarism_bands"

    attempt_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(_ATTEMPT, ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)

    __table_args__ = (Index("ix_plagiarism_bands_lookup", "question_id", "key"),)


class MatchRow(Base):
    """`attempt_id`'s answer to `question_id` resembles `other_attempt_id`'s; spans are
    [[start, end, other_start, other_end], ...] in the two answers."""

    __tablename__ = "plagiarism_matches"

    attempt_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(_ATTEMPT, ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    other_attempt_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(_ATTEMPT, ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[float] = mapped_column(Float)
    spans: Mapped[list[Any]] = mapped_column(JSONB)
    method: Mapped[str] = mapped_column(String(11), server_default="FINGERPRINT")

    __table_args__ = (Index("ix_plagiarism_matches_other", "other_attempt_id"),)


class SentencesRow(Base):
    """An essay answer's sentence embeddings; spans are [start, end, start, end, ...]."""

    __tablename__ = "plagiarism_sentences"

    attempt_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(_ATTEMPT, ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    centroid: Mapped[bytes] = mapped_column(LargeBinary)
    vectors: Mapped[bytes] = mapped_column(LargeBinary)
    spans: Mapped[list[int]] = mapped_column(ARRAY(Integer))

    __table_args__ = (Index("ix_plagiarism_sentences_question", "question_id"),)
