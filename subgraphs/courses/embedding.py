"""Course embeddings for semantic search: what text a course is embedded from, and the
worker's job that embeds the courses whose text changed (`lms embed-courses` runs it once).

A course is one unit vector: the sum of its summary's (title, tags, description) and the
mean of its lessons' (title and text), so a course with a thin description is still found by
what its lessons teach (weighing the summary twice measured the same on bench/data/search,
whose lessons are short). The model reads at most 256 word pieces of each text, so a long
lesson is embedded from its beginning.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import clock
from common.ai import embeddings
from common.ai.embeddings import Vectors
from common.db import create_engine, service_dsn, session_factory
from common.settings import Settings
from subgraphs.courses.content import plain_text
from subgraphs.courses.models import CourseEmbeddingRow, CourseRow, LessonRow

log = logging.getLogger(__name__)

SUMMARY_WEIGHT = 1.0
BATCH = 32  # courses embedded per transaction
LESSON_CHARS = 1500  # of each lesson's text: about the model's 256 word pieces


@dataclass(frozen=True, slots=True)
class CourseText:
    course_id: uuid.UUID
    revision: int
    summary: str
    lessons: tuple[str, ...]


def summary_of(title: str, tags: Sequence[str], description_html: str) -> str:
    words = " ".join(plain_text(description_html).split())
    return f"{title}. {', '.join(tags)}. {words}" if tags else f"{title}. {words}"


def lesson_of(title: str, body_html: str) -> str:
    return f"{title}. {' '.join(plain_text(body_html).split())[:LESSON_CHARS]}"


def course_vector(summary: Vectors, lessons: Vectors) -> Vectors:
    """One unit vector (1, 384) from a summary's row and the lessons' rows (maybe none)."""
    combined = SUMMARY_WEIGHT * summary[0]
    if len(lessons):
        combined = combined + lessons.mean(axis=0)
    norm = float(np.linalg.norm(combined))
    unit: Vectors = (combined / norm if norm else combined).reshape(1, -1).astype(np.float32)
    return unit


def encode_courses(texts: Sequence[CourseText]) -> list[Vectors]:
    """Every course's vector, the model called once for all their texts (CPU work)."""
    flat = [t.summary for t in texts] + [lesson for t in texts for lesson in t.lessons]
    vectors = embeddings.encode(flat)
    lessons = vectors[len(texts) :]
    result, start = [], 0
    for index, course in enumerate(texts):
        end = start + len(course.lessons)
        result.append(course_vector(vectors[index : index + 1], lessons[start:end]))
        start = end
    return result


async def due_texts(session: AsyncSession, limit: int) -> list[CourseText]:
    """The texts of up to `limit` courses whose embedding is behind their text."""
    due = (
        await session.execute(
            select(CourseEmbeddingRow.course_id, CourseEmbeddingRow.revision, CourseRow)
            .join(CourseRow, CourseRow.id == CourseEmbeddingRow.course_id)
            .where(CourseEmbeddingRow.embedded_revision < CourseEmbeddingRow.revision)
            .order_by(CourseEmbeddingRow.course_id)
            .limit(limit)
        )
    ).all()
    if not due:
        return []
    lessons: dict[uuid.UUID, list[str]] = {}
    rows = await session.execute(
        select(LessonRow.course_id, LessonRow.title, LessonRow.body_html)
        .where(LessonRow.course_id.in_([course_id for course_id, _, _ in due]))
        .order_by(LessonRow.course_id, LessonRow.position)
    )
    for course_id, title, body_html in rows:
        lessons.setdefault(course_id, []).append(lesson_of(title, body_html))
    return [
        CourseText(
            course_id,
            revision,
            summary_of(course.title, course.tags, course.description_html),
            tuple(lessons.get(course_id, ())),
        )
        for course_id, revision, course in due
    ]


async def embed_due(sessions: async_sessionmaker[AsyncSession], batch: int = BATCH) -> int:
    """Embed every course whose text changed since its embedding; the number embedded.

    Each batch records the revision it read, so a change made meanwhile stays due."""
    embedded = 0
    while True:
        async with sessions() as session:
            texts = await due_texts(session, batch)
        if not texts:
            return embedded
        vectors = await asyncio.to_thread(encode_courses, texts)
        async with sessions.begin() as session:
            for course, vector in zip(texts, vectors, strict=True):
                await session.execute(
                    update(CourseEmbeddingRow)
                    .where(CourseEmbeddingRow.course_id == course.course_id)
                    .values(
                        vector=embeddings.to_bytes(vector),
                        embedded_revision=course.revision,
                        embedded_at=clock.now(),
                    )
                )
        embedded += len(texts)


async def mark_all_due(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Every course due for embedding (after a model change, say)."""
    async with sessions.begin() as session:
        await session.execute(
            update(CourseEmbeddingRow).values(revision=CourseEmbeddingRow.revision + 1)
        )


async def embed_courses(settings: Settings, *, everything: bool) -> str:
    """`lms embed-courses`: the backfill, one line saying how many courses were embedded."""
    engine = create_engine(service_dsn(settings, "courses"), pool_size=1)
    try:
        sessions = session_factory(engine)
        if everything:
            await mark_all_due(sessions)
        count = await embed_due(sessions)
    finally:
        await engine.dispose()
    return f"embedded {count} courses"


class CourseEmbedder:
    """The worker's job: embed the courses due, then wait `interval_seconds`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], interval_seconds: float) -> None:
        self.sessions = sessions
        self.interval_seconds = interval_seconds

    async def run_schedule(self) -> None:
        while True:
            count = await embed_due(self.sessions)
            if count:
                log.info("courses embedded", extra={"courses": count})
            await asyncio.sleep(self.interval_seconds)
