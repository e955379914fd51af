"""`similarCourses` under repeated calls: the candidates weighed once and kept per catalogue
fingerprint (subgraphs/courses/similar_index.py) against weighing them again every call (a
fresh cache each call: load the 5,000 candidates' texts and embeddings, fit TF-IDF or stack
the embeddings, rank), in the same run on the same catalogue.

A real PostgreSQL (started for the run) holds `--courses` published courses with synthetic
texts (a topic's words and common ones), each with a unit embedding. Each call asks for the
10 courses most like 5 source courses, through `similar_courses` (the service function the
resolver calls; no router or HTTP). Both paths are timed: TF-IDF (the sources not embedded)
and embeddings (every source embedded; only when the `ai` extra is installed). Median of
`--calls` calls after one warm-up.

    PYTHONPATH=$PWD .venv/bin/python bench/similar_courses.py [--courses 5000] [--calls 15]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
from plagiarism_timing import database
from recommendations_latency import median_ms
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.ai import embeddings
from common.db.engine import create_engine, service_dsn, session_factory
from common.settings import Settings
from subgraphs.courses.access import CourseStatus
from subgraphs.courses.models import CourseEmbeddingRow, CourseRow
from subgraphs.courses.similar import similar_courses
from subgraphs.courses.similar_index import CandidateCache

TOPICS = 50
WORDS_PER_TOPIC = 40
COMMON = ["practical", "guide", "skills", "project", "hands", "fundamentals", "tools"]


async def load(sessions: async_sessionmaker[AsyncSession], count: int) -> list[uuid.UUID]:
    chance = random.Random(7)
    vocabulary = [[f"t{t}w{w}" for w in range(WORDS_PER_TOPIC)] for t in range(TOPICS)]
    directions = np.random.default_rng(7).normal(size=(TOPICS, embeddings.DIMENSIONS))
    owner, now = uuid.uuid4(), datetime.now(UTC)
    rows, vectors = [], []
    for index in range(count):
        topic = index % TOPICS
        words = chance.choices(vocabulary[topic], k=30) + chance.choices(COMMON, k=8)
        rows.append(
            CourseRow(
                id=uuid.uuid4(),
                slug=f"bench-{index}",
                title=" ".join(words[:5]),
                description_html=f"<p>{' '.join(words[5:])}</p>",
                tags=words[:2],
                status=CourseStatus.PUBLISHED.value,
                instructor_id=owner,
                published_at=now - timedelta(minutes=index),
            )
        )
        vector = directions[topic] + np.random.default_rng(index).normal(
            scale=0.5, size=embeddings.DIMENSIONS
        )
        vectors.append((vector / np.linalg.norm(vector)).astype(np.float32)[np.newaxis, :])
    async with sessions.begin() as session:
        session.add_all(rows)
        await session.flush()
        session.add_all(
            CourseEmbeddingRow(
                course_id=row.id,
                revision=1,
                embedded_revision=1,
                vector=embeddings.to_bytes(vector),
            )
            for row, vector in zip(rows, vectors, strict=True)
        )
    return [row.id for row in rows]


async def measure(settings: Settings, courses: int, calls: int) -> None:
    engine = create_engine(service_dsn(settings, "courses"), pool_size=2)
    try:
        sessions = session_factory(engine)
        ids = await load(sessions, courses)
        sources = ids[:: max(1, courses // 5)][:5]
        kept = CandidateCache()

        async def fresh() -> object:
            return await similar_courses(sessions, None, sources, 10, CandidateCache())

        async def cached() -> object:
            return await similar_courses(sessions, None, sources, 10, kept)

        rows: list[tuple[str, float, float]] = []
        if embeddings.available():
            rows.append(
                ("embeddings", await median_ms(calls, fresh), await median_ms(calls, cached))
            )
        async with sessions.begin() as session:  # the sources not embedded: TF-IDF
            await session.execute(
                update(CourseEmbeddingRow)
                .where(CourseEmbeddingRow.course_id.in_(sources))
                .values(vector=None, embedded_revision=0)
            )
        rows.append(("TF-IDF", await median_ms(calls, fresh), await median_ms(calls, cached)))
    finally:
        await engine.dispose()
    print(f"{courses} published courses, 5 sources, first 10, median of {calls} calls\n")
    print("| path | weighed every call, ms | kept, ms | every call / kept |")
    print("| --- | ---: | ---: | ---: |")
    for path, every, kept_ms in rows:
        print(f"| {path} | {every:.1f} | {kept_ms:.1f} | {every / kept_ms:.1f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=5000)
    parser.add_argument("--calls", type=int, default=15)
    args = parser.parse_args()
    with database("courses") as settings:
        asyncio.run(measure(settings, args.courses, args.calls))


if __name__ == "__main__":
    main()
