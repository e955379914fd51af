"""Course search measured: nDCG@10 and recall@10 of searchCourses' FULL_TEXT, SEMANTIC and
HYBRID modes in one run, on a labelled query set over a catalogue of published courses
(bench/data/search: courses.json, queries.json with graded relevance, 2 = what the query is
about, 1 = related). The catalogue is loaded into a real PostgreSQL (started from the local
binaries in a temporary directory), embedded as the courses worker does, and every query is
run through the courses service as an anonymous visitor. Needs the `ai` extra.

    PYTHONPATH=$PWD .venv/bin/python bench/semantic_search.py [--per-query]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plagiarism_timing import database
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.ai import embeddings
from common.db.engine import create_engine, service_dsn, session_factory
from common.settings import Settings
from subgraphs.courses.access import CourseStatus
from subgraphs.courses.content import TextFormat, render
from subgraphs.courses.embedding import embed_due
from subgraphs.courses.models import CourseRow, LessonRow, ModuleRow
from subgraphs.courses.search import refresh_search
from subgraphs.courses.service import CourseFilter, CoursesService, SearchMode

DATA = Path(__file__).parent / "data" / "search"
CUTOFF = 10


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    kind: str  # keyword, described (what the learner wants, in their words), typo or prefix
    relevant: Mapping[str, int]  # slug -> grade


@dataclass(frozen=True, slots=True)
class Outcome:
    query: Query
    mode: SearchMode
    ndcg: float
    recall: float
    found: int


def ndcg(ranked: Sequence[str], relevant: Mapping[str, int], cutoff: int = CUTOFF) -> float:
    """Normalised discounted cumulative gain, gain 2^grade - 1, log2 discount."""

    def dcg(grades: Sequence[int]) -> float:
        return sum((2.0**g - 1) / math.log2(i + 2) for i, g in enumerate(grades[:cutoff]))

    ideal = dcg(sorted(relevant.values(), reverse=True))
    return dcg([relevant.get(slug, 0) for slug in ranked]) / ideal if ideal else 0.0


def recall(ranked: Sequence[str], relevant: Mapping[str, int], cutoff: int = CUTOFF) -> float:
    return len(set(ranked[:cutoff]) & set(relevant)) / len(relevant)


async def load(sessions: async_sessionmaker[AsyncSession], courses: list[dict[str, Any]]) -> None:
    """The catalogue as published courses, one module each, indexed for search."""
    owner = uuid.uuid4()
    async with sessions.begin() as session:
        for course in courses:
            row = CourseRow(
                id=uuid.uuid4(),
                slug=course["slug"],
                title=course["title"],
                description_source=course["description"],
                description_html=render(course["description"], TextFormat.MARKDOWN, field="d"),
                status=CourseStatus.PUBLISHED.value,
                tags=course["tags"],
                instructor_id=owner,
            )
            module = ModuleRow(id=uuid.uuid4(), course_id=row.id, title="Lessons", position=0)
            session.add_all([row, module])
            await session.flush()
            for position, (title, body) in enumerate(course["lessons"]):
                session.add(
                    LessonRow(
                        id=uuid.uuid4(),
                        module_id=module.id,
                        course_id=row.id,
                        title=title,
                        position=position,
                        body_source=body,
                        body_html=render(body, TextFormat.MARKDOWN, field="body"),
                    )
                )
            await session.flush()
            await refresh_search(session, row.id)


async def measure(settings: Settings, per_query: bool) -> None:
    courses = json.loads((DATA / "courses.json").read_text())
    queries = [
        Query(q["query"], q["kind"], q["relevant"])
        for q in json.loads((DATA / "queries.json").read_text())
    ]
    engine = create_engine(service_dsn(settings, "courses"), pool_size=2)
    try:
        sessions = session_factory(engine)
        await load(sessions, courses)
        started = time.perf_counter()
        embedded = await embed_due(sessions)
        embedding_seconds = time.perf_counter() - started
        service = CoursesService(sessions)
        outcomes: list[Outcome] = []
        for query in queries:
            line = [f"{query.text!r}:"]
            for mode in SearchMode:
                page = await service.search(
                    None, query.text, CourseFilter(), mode=mode, first=CUTOFF, after=None
                )
                ranked = [row.slug for row in page.rows]
                score = ndcg(ranked, query.relevant)
                outcomes.append(
                    Outcome(query, mode, score, recall(ranked, query.relevant), page.total_count)
                )
                line.append(f"{mode.value} {score:.2f}")
            if per_query:
                print(" ".join(line))
    finally:
        await engine.dispose()
    print(
        f"{len(courses)} courses ({embedded} embedded in {embedding_seconds:.1f} s), "
        f"{len(queries)} queries, {sum(len(q.relevant) for q in queries)} judgements\n"
    )
    print(f"| queries | mode | nDCG@{CUTOFF} | recall@{CUTOFF} | queries with no result |")
    print("| --- | --- | ---: | ---: | ---: |")
    kinds = sorted({q.kind for q in queries}, key=lambda k: [q.kind for q in queries].index(k))
    for kind in ["all", *kinds]:
        chosen = [o for o in outcomes if kind == "all" or o.query.kind == kind]
        for mode in SearchMode:
            rows = [o for o in chosen if o.mode is mode]
            print(
                f"| {kind} ({len(rows)}) | {mode.value} "
                f"| {statistics.fmean(o.ndcg for o in rows):.3f} "
                f"| {statistics.fmean(o.recall for o in rows):.3f} "
                f"| {sum(1 for o in rows if o.found == 0)} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-query", action="store_true", help="each query's nDCG per mode")
    args = parser.parse_args()
    if not embeddings.available():
        raise SystemExit("semantic_search: the `ai` extra is not installed (pip install '.[ai]')")
    with database("courses") as settings:
        asyncio.run(measure(settings, args.per_query))


if __name__ == "__main__":
    main()
