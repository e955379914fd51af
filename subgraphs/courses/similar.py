"""Courses like given ones by content, for the analytics subgraph's recommendations (and any
client): the published catalogue ranked by cosine similarity to each source course.

Sentence embeddings (embedding.py) when the model is installed and every source course has
been embedded; otherwise TF-IDF of the courses' summaries (title, tags, description), fitted
on the candidates (common/ai/tfidf.py). The candidates are weighed once per state of the
catalogue and kept (similar_index.py). One method per answer, so the
similarities of one answer compare. Only published courses that are not templates are
candidates; a source the caller may not see is left out, not acknowledged.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.ai import embeddings
from common.auth import Principal
from subgraphs.courses import access
from subgraphs.courses.embedding import summary_of
from subgraphs.courses.models import CourseEmbeddingRow, CourseRow
from subgraphs.courses.similar_index import (
    CANDIDATE_CACHE,
    CandidateCache,
    CandidateIndex,
    is_candidate,
)

EMBEDDING_FLOOR: Final = 0.25  # as semantic search's (ranking.py): below, unrelated
TFIDF_FLOOR: Final = 0.05  # no shared word but the commonest


@dataclass(frozen=True, slots=True)
class Similar:
    source_id: uuid.UUID
    course: CourseRow
    similarity: float


@dataclass(frozen=True, slots=True)
class _Source:
    row: CourseRow
    vector: bytes | None


async def _sources(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[_Source]:
    query = (
        select(CourseRow, CourseEmbeddingRow.vector)
        .outerjoin(CourseEmbeddingRow, CourseEmbeddingRow.course_id == CourseRow.id)
        .where(CourseRow.id.in_(set(ids)))
        .order_by(CourseRow.published_at.desc().nulls_last(), CourseRow.id)
    )
    return [_Source(row, vector) for row, vector in (await session.execute(query)).all()]


def _scores(
    sources: Sequence[_Source], candidates: CandidateIndex
) -> tuple[npt.NDArray[np.float32], float]:
    """Each source's cosine similarity to each candidate (a row a source), and its floor."""
    if embeddings.available() and all(source.vector for source in sources):
        asked = np.vstack([embeddings.from_bytes(s.vector or b"")[0] for s in sources])
        return asked @ candidates.embedded.T, EMBEDDING_FLOOR
    texts = [summary_of(s.row.title, s.row.tags, s.row.description_html) for s in sources]
    return candidates.tfidf.similarities(texts), TFIDF_FLOOR


def rank_similar(
    sources: Sequence[_Source], candidates: CandidateIndex, per_source: int
) -> list[tuple[uuid.UUID, uuid.UUID, float]]:
    """Each source's `per_source` most similar candidates above the floor, best first, as
    (source id, candidate id, similarity)."""
    if not sources or not candidates.ids:
        return []
    scores, floor = _scores(sources, candidates)
    found: list[tuple[uuid.UUID, uuid.UUID, float]] = []
    for index, source in enumerate(sources):
        row = scores[index]
        # best first; ties in candidate order (most recently published first, then id)
        order = np.argsort(-row, kind="stable")[: per_source + 1]
        kept = [
            int(j)
            for j in order
            if candidates.ids[int(j)] != source.row.id and float(row[j]) >= floor
        ]
        found.extend(
            (source.row.id, candidates.ids[j], round(float(row[j]), 4)) for j in kept[:per_source]
        )
    return found


async def similar_courses(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal | None,
    source_ids: Sequence[uuid.UUID],
    per_source: int,
    cache: CandidateCache = CANDIDATE_CACHE,
) -> list[Similar]:
    async with sessions() as session:
        sources = [
            source
            for source in await _sources(session, source_ids)
            if access.can_view(principal, source.row)
        ]
        if not sources:
            return []
        ranked = rank_similar(sources, await cache.index(session), per_source)
        # the courses found as they are now (the index keeps ids and weights, not rows); one
        # unpublished since the fingerprint was read is left out
        found_ids = {course_id for _, course_id, _ in ranked}
        rows = {
            row.id: row
            for row in (
                await session.scalars(
                    select(CourseRow).where(CourseRow.id.in_(found_ids), *is_candidate())
                )
            ).all()
        }
    return [
        Similar(source_id, rows[course_id], similarity)
        for source_id, course_id, similarity in ranked
        if course_id in rows
    ]
