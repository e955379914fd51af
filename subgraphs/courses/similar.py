"""Courses like given ones by content, for the analytics subgraph's recommendations (and any
client): the published catalogue ranked by cosine similarity to each source course.

Sentence embeddings (embedding.py) when the model is installed and every source course has
been embedded; otherwise TF-IDF of the courses' summaries (title, tags, description), made
on the spot over the candidates (common/ai/tfidf.py). One method per answer, so the
similarities of one answer compare. Only published courses that are not templates are
candidates; a source the caller may not see is left out, not acknowledged.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.ai import embeddings
from common.ai.embeddings import Vectors
from common.ai.tfidf import tfidf_vectors
from common.auth import Principal
from subgraphs.courses import access
from subgraphs.courses.access import CourseStatus
from subgraphs.courses.embedding import summary_of
from subgraphs.courses.models import CourseEmbeddingRow, CourseRow

CANDIDATES: Final = 5000  # the most recently published courses compared
EMBEDDING_FLOOR: Final = 0.25  # as semantic search's (ranking.py): below, unrelated
TFIDF_FLOOR: Final = 0.05  # no shared word but the commonest


@dataclass(frozen=True, slots=True)
class Similar:
    source_id: uuid.UUID
    course: CourseRow
    similarity: float


@dataclass(frozen=True, slots=True)
class _Course:
    row: CourseRow
    vector: bytes | None


async def _rows(session: AsyncSession, *where: object, limit: int | None = None) -> list[_Course]:
    query = (
        select(CourseRow, CourseEmbeddingRow.vector)
        .outerjoin(CourseEmbeddingRow, CourseEmbeddingRow.course_id == CourseRow.id)
        .where(*where)  # type: ignore[arg-type]
        .order_by(CourseRow.published_at.desc().nulls_last(), CourseRow.id)
        .limit(limit)
    )
    return [_Course(row, vector) for row, vector in (await session.execute(query)).all()]


def _vectors(sources: Sequence[_Course], candidates: Sequence[_Course]) -> tuple[Vectors, float]:
    """Unit rows for the sources then the candidates, and the floor of their similarity."""
    everyone = [*sources, *candidates]
    if embeddings.available() and all(course.vector for course in sources):
        rows = [
            embeddings.from_bytes(course.vector)[0]
            if course.vector
            else np.zeros(embeddings.DIMENSIONS, dtype=np.float32)  # not embedded yet: no match
            for course in everyone
        ]
        return np.vstack(rows), EMBEDDING_FLOOR
    texts = [summary_of(c.row.title, c.row.tags, c.row.description_html) for c in everyone]
    return tfidf_vectors(texts), TFIDF_FLOOR


def rank_similar(
    sources: Sequence[_Course], candidates: Sequence[_Course], per_source: int
) -> list[Similar]:
    """Each source's `per_source` most similar candidates above the floor, best first."""
    if not sources or not candidates:
        return []
    vectors, floor = _vectors(sources, candidates)
    scores = vectors[: len(sources)] @ vectors[len(sources) :].T
    found: list[Similar] = []
    for index, source in enumerate(sources):
        row = scores[index]
        # best first; ties in candidate order (most recently published first, then id)
        order = np.argsort(-row, kind="stable")[: per_source + 1]
        kept = [
            int(j)
            for j in order
            if candidates[int(j)].row.id != source.row.id and float(row[j]) >= floor
        ]
        found.extend(
            Similar(source.row.id, candidates[j].row, round(float(row[j]), 4))
            for j in kept[:per_source]
        )
    return found


async def similar_courses(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal | None,
    source_ids: Sequence[uuid.UUID],
    per_source: int,
) -> list[Similar]:
    async with sessions() as session:
        sources = [
            course
            for course in await _rows(session, CourseRow.id.in_(set(source_ids)))
            if access.can_view(principal, course.row)
        ]
        if not sources:
            return []
        candidates = await _rows(
            session,
            CourseRow.status == CourseStatus.PUBLISHED.value,
            CourseRow.is_template.is_(False),
            limit=CANDIDATES,
        )
    return rank_similar(sources, candidates, per_source)
