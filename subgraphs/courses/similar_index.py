"""The candidates of `similarCourses` (similar.py), weighed once per state of the catalogue
and kept per process.

Loading up to 5,000 published courses (their texts and embeddings) and weighing them again
was most of each call. Instead PostgreSQL sums the candidates' state up in one fingerprint:
the md5 of each candidate's id, version and embedded revision, in candidate order. A course
published, archived or made a template changes who the candidates are, an edit bumps its
version (access.touch), a new embedding its embedded revision: any of them changes the
fingerprint, and the next call weighs the candidates again. So a change shows at once, never
later; while nothing changes a call costs the fingerprint query, the sources' rows, one
matrix product and the rows of the courses found. One index per process (the latest).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final

import numpy as np
from sqlalchemy import ColumnElement, Select, String, cast, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from common.ai import embeddings
from common.ai.embeddings import Vectors
from common.ai.tfidf import TfidfIndex
from subgraphs.courses.access import CourseStatus
from subgraphs.courses.embedding import summary_of
from subgraphs.courses.models import CourseEmbeddingRow, CourseRow

CANDIDATES: Final = 5000  # the most recently published courses compared


def is_candidate() -> tuple[ColumnElement[bool], ...]:
    return (CourseRow.status == CourseStatus.PUBLISHED.value, CourseRow.is_template.is_(False))


_ORDER: Final = (CourseRow.published_at.desc().nulls_last(), CourseRow.id)


@dataclass(frozen=True, slots=True)
class Candidate:
    id: uuid.UUID
    text: str  # the summary TF-IDF weighs (embedding.summary_of)
    vector: bytes | None  # its sentence embedding, once the worker has made it


class CandidateIndex:
    """The candidates in order (most recently published first, then id), each weighing
    fitted on first use: TF-IDF over their texts, or their embeddings stacked."""

    def __init__(self, fingerprint: str, candidates: list[Candidate]) -> None:
        self.fingerprint = fingerprint
        self.ids = [candidate.id for candidate in candidates]
        self._candidates = candidates

    @cached_property
    def tfidf(self) -> TfidfIndex:
        return TfidfIndex([candidate.text for candidate in self._candidates])

    @cached_property
    def embedded(self) -> Vectors:
        """Unit rows; a zero row for a course not embedded yet (it matches nothing)."""
        if not self._candidates:
            return np.zeros((0, embeddings.DIMENSIONS), dtype=np.float32)
        return np.vstack(
            [
                embeddings.from_bytes(candidate.vector)[0]
                if candidate.vector
                else np.zeros(embeddings.DIMENSIONS, dtype=np.float32)
                for candidate in self._candidates
            ]
        )


def _listed(*columns: Any) -> Select[Any]:
    """`columns` of the candidates, in candidate order."""
    return (
        select(*columns)
        .outerjoin(CourseEmbeddingRow, CourseEmbeddingRow.course_id == CourseRow.id)
        .where(*is_candidate())
        .order_by(*_ORDER)
        .limit(CANDIDATES)
    )


async def _fingerprint(session: AsyncSession) -> str:
    listed = _listed(
        CourseRow.id,
        CourseRow.version,
        CourseRow.published_at,
        CourseEmbeddingRow.embedded_revision,
    ).subquery()
    state = func.concat(
        cast(listed.c.id, String), ":", listed.c.version, ":", listed.c.embedded_revision
    )
    ordered = aggregate_order_by(
        literal(","), listed.c.published_at.desc().nulls_last(), listed.c.id
    )
    found = await session.scalar(
        select(func.md5(func.coalesce(func.string_agg(state, ordered), "")))
    )
    return str(found)


async def _candidates(session: AsyncSession) -> list[Candidate]:
    query = _listed(
        CourseRow.id,
        CourseRow.title,
        CourseRow.tags,
        CourseRow.description_html,
        CourseEmbeddingRow.vector,
    )
    return [
        Candidate(course_id, summary_of(title, tags, description), vector)
        for course_id, title, tags, description, vector in (await session.execute(query)).all()
    ]


class CandidateCache:
    """The latest candidate index of this process, weighed again when the catalogue moved."""

    def __init__(self) -> None:
        self._index: CandidateIndex | None = None

    async def index(self, session: AsyncSession) -> CandidateIndex:
        fingerprint = await _fingerprint(session)
        kept = self._index
        if kept is not None and kept.fingerprint == fingerprint:
            return kept
        # read in the same transaction as the fingerprint (REPEATABLE READ is not needed: a
        # change in between makes the next call's fingerprint differ and weigh again)
        fresh = CandidateIndex(fingerprint, await _candidates(session))
        self._index = fresh
        return fresh

    def clear(self) -> None:
        self._index = None


CANDIDATE_CACHE: Final = CandidateCache()
