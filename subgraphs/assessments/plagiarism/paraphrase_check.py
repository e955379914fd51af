"""The paraphrase stage of an essay's check: its sentences embedded in a thread (the model is
CPU work), stored per answer, and compared with the other learners' answers to the question.

Candidates are the CANDIDATES answers whose mean sentence direction is closest to this one's,
found with numpy over the question's stored centroids (one 384-float row per answer: 15 MB at
10,000 answers; bench/plagiarism_timing.py measures it), then scored on all their sentences.
"""

from __future__ import annotations

import asyncio
import uuid

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from common.ai import embeddings
from subgraphs.assessments.models import AttemptRow
from subgraphs.assessments.plagiarism.compare import Span
from subgraphs.assessments.plagiarism.paraphrase import (
    EmbeddedEssay,
    ParaphraseMatch,
    paraphrase_match,
)
from subgraphs.assessments.plagiarism.sentences import split_sentences
from subgraphs.assessments.plagiarism.tables import CheckedAnswerRow, SentencesRow

CANDIDATES = 20


def embedded(text: str) -> EmbeddedEssay | None:
    """The essay's sentences and their embeddings (None without a sentence to compare)."""
    sentences = split_sentences(text)
    if not sentences:
        return None
    vectors = embeddings.encode([s.text for s in sentences])
    return EmbeddedEssay([Span(s.start, s.end) for s in sentences], vectors)


async def embed_essay(text: str) -> EmbeddedEssay | None:
    """`embedded` in a thread: the event loop keeps serving while the model runs."""
    return await asyncio.to_thread(embedded, text)


def _essay_of(vectors: bytes, spans: list[int]) -> EmbeddedEssay:
    return EmbeddedEssay(
        [Span(spans[i], spans[i + 1]) for i in range(0, len(spans), 2)],
        embeddings.from_bytes(vectors),
    )


async def store_sentences(
    session: AsyncSession, attempt_id: uuid.UUID, question_id: uuid.UUID, essay: EmbeddedEssay
) -> None:
    session.add(
        SentencesRow(
            attempt_id=attempt_id,
            question_id=question_id,
            centroid=embeddings.to_bytes(essay.centroid),
            vectors=embeddings.to_bytes(essay.vectors),
            spans=[bound for span in essay.spans for bound in (span.start, span.end)],
        )
    )
    await session.flush()


async def paraphrase_matches(
    session: AsyncSession, attempt: AttemptRow, question_id: uuid.UUID, essay: EmbeddedEssay
) -> dict[uuid.UUID, ParaphraseMatch]:
    """Other learners' answers to the question scored against this one."""
    rows = (
        await session.execute(
            select(SentencesRow.attempt_id, SentencesRow.centroid)
            .join(
                CheckedAnswerRow,
                (CheckedAnswerRow.attempt_id == SentencesRow.attempt_id)
                & (CheckedAnswerRow.question_id == SentencesRow.question_id),
            )
            .where(
                SentencesRow.question_id == question_id,
                CheckedAnswerRow.user_id != attempt.user_id,
            )
        )
    ).all()
    if not rows:
        return {}
    centroids = embeddings.from_bytes(b"".join(row.centroid for row in rows))
    closeness = centroids @ essay.centroid
    nearest = np.argsort(-closeness, kind="stable")[:CANDIDATES]
    chosen = [rows[int(i)].attempt_id for i in nearest]
    found: dict[uuid.UUID, ParaphraseMatch] = {}
    for row in await session.execute(
        select(SentencesRow.attempt_id, SentencesRow.vectors, SentencesRow.spans).where(
            SentencesRow.question_id == question_id, SentencesRow.attempt_id.in_(chosen)
        )
    ):
        found[row.attempt_id] = paraphrase_match(essay, _essay_of(row.vectors, row.spans))
    return found
