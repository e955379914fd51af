"""Time per checked submission with 1,000 and 10,000 submissions already stored for the
question, on a real PostgreSQL (started from the local binaries in a temporary directory).

The stored submissions are synthetic. Code answers are either random programs (three
functions of random statements: they share common idioms, as independent solutions do) or,
the worst case, three functions drawn from the corpus' 60 (so most answers share a whole
function with the new one: nearly all are candidates). Essays are five sentences drawn from
the corpus' essays. They are loaded with their fingerprints, band keys and (with the `ai`
extra) sentence embeddings in bulk; then new submissions are checked one by one, each in its
own transaction, as the worker does: essays with the paraphrase stage (the new essay encoded
by the model, then compared) and without it.
"""

from __future__ import annotations

import ast
import asyncio
import os
import random
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.ai import embeddings
from common.db import migrations
from common.db.engine import create_engine, service_dsn, session_factory
from common.db.provisioning import provision
from common.infra.ports import free_port
from common.infra.postgres import PostgresServer
from common.settings import Settings
from subgraphs.assessments.models import AnswerRow, AssessmentRow, AttemptRow, QuestionRow
from subgraphs.assessments.plagiarism.analysis import AnswerKind
from subgraphs.assessments.plagiarism.checker import analyse, check_attempt
from subgraphs.assessments.plagiarism.compare import Span
from subgraphs.assessments.plagiarism.paraphrase import EmbeddedEssay
from subgraphs.assessments.plagiarism.sentences import split_sentences
from subgraphs.assessments.plagiarism.tables import (
    BandRow,
    CheckedAnswerRow,
    FingerprintRow,
    SentencesRow,
)

DATA = Path(__file__).parent / "data" / "plagiarism"
CHUNK = 2000
POPULATIONS = ("random", "shared", "essay", "essay_fingerprints")


def _functions() -> list[str]:
    found = []
    for path in sorted((DATA / "code").glob("*/*.txt")):
        tree = ast.parse(path.read_text())
        found += [ast.unparse(n) for n in tree.body if isinstance(n, ast.FunctionDef)]
    return found


def _sentences() -> list[str]:
    found = []
    for path in sorted((DATA / "text").glob("*/*.txt")):
        found += re.split(r"(?<=[.!?])\s+", path.read_text().strip())
    return found


_NAMES = ("total", "items", "count", "value", "result", "index", "data", "row", "key", "best")


def _statement(rng: random.Random, indent: str, depth: int = 0) -> list[str]:
    a, b, c = rng.sample(_NAMES, 3)
    choice = rng.randrange(6 if depth < 2 else 3)
    if choice == 0:
        return [f"{indent}{a} = {b} {rng.choice('+-*%')} {rng.choice([c, str(rng.randrange(9))])}"]
    if choice == 1:
        return [f"{indent}{a} {rng.choice(['+=', '-=', '*='])} {rng.randrange(1, 9)}"]
    if choice == 2:
        return [f"{indent}{a}.{rng.choice(['append', 'add', 'update'])}({b})"]
    if choice == 3:
        head = f"{indent}if {a} {rng.choice(['<', '>', '==', '!='])} {b}:"
    elif choice == 4:
        head = f"{indent}for {a} in {rng.choice([b, f'range({c})'])}:"
    else:
        head = f"{indent}while {a} {rng.choice(['<', '>'])} {rng.randrange(50)}:"
    body = [
        line
        for _ in range(rng.randint(1, 3))
        for line in _statement(rng, indent + "    ", depth + 1)
    ]
    return [head, *body]


def random_program(rng: random.Random) -> str:
    functions = []
    for _ in range(3):
        lines = [
            f"def {rng.choice(_NAMES)}_{rng.randrange(99)}({', '.join(rng.sample(_NAMES, 2))}):"
        ]
        lines += [line for _ in range(rng.randint(3, 6)) for line in _statement(rng, "    ")]
        lines.append(f"    return {rng.choice(_NAMES)}")
        functions.append("\n".join(lines))
    return "\n\n\n".join(functions) + "\n"


def synthetic(kind: str, rng: random.Random, pool: list[str]) -> dict[str, str]:
    if kind == "random":
        return {"code": random_program(rng)}
    if kind == "shared":
        return {"code": "\n\n".join(rng.sample(pool, 3)) + "\n"}
    return {"text": " ".join(rng.sample(pool, 5))}


@contextmanager
def database(service: str = "assessments") -> Iterator[Settings]:
    """A migrated schema of `service` on a PostgreSQL started for the benchmark."""
    with tempfile.TemporaryDirectory() as state:
        port = free_port()
        with PostgresServer(Path(state) / "postgres", port, password="bench", fast=True):
            os.environ.update(
                {
                    "LMS_ENV": "test",
                    "LMS_STATE_DIR": state,
                    "LMS_PG_PORT": str(port),
                    "LMS_PG_ADMIN_PASSWORD": "bench",
                    "LMS_PG_SERVICE_PASSWORD": "bench-service",
                    "LMS_LOG_LEVEL": "WARNING",
                }
            )
            settings = Settings.from_env()
            asyncio.run(provision(settings, [service]))
            migrations.upgrade(settings, service)
            yield settings


async def _question(
    sessions: async_sessionmaker[AsyncSession], kind: AnswerKind
) -> tuple[QuestionRow, uuid.UUID]:
    course, author = uuid.uuid4(), uuid.uuid4()
    async with sessions.begin() as session:
        question = QuestionRow(
            course_id=course,
            kind="CODE" if kind is AnswerKind.CODE else "ESSAY",
            prompt="bench",
            spec={"starter": "", "tests": []} if kind is AnswerKind.CODE else {"rubric": []},
            created_by=author,
        )
        assessment = AssessmentRow(course_id=course, title="bench", kind="QUIZ", created_by=author)
        session.add_all([question, assessment])
        await session.flush()
        await session.refresh(question)
    return question, assessment.id


async def _load(
    sessions: async_sessionmaker[AsyncSession],
    question: QuestionRow,
    assessment_id: uuid.UUID,
    kind: AnswerKind,
    answers: list[dict[str, str]],
    *,
    checked: bool,
) -> list[uuid.UUID]:
    """Submitted attempts with these answers; with their fingerprints when `checked`."""
    ids = [uuid.uuid4() for _ in answers]
    for low in range(0, len(answers), CHUNK):
        chunk = range(low, min(low + CHUNK, len(answers)))
        attempts: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        checked_rows: list[dict[str, Any]] = []
        prints: list[dict[str, Any]] = []
        bands: list[dict[str, Any]] = []
        sentences: list[dict[str, Any]] = []
        for i in chunk:
            user = uuid.uuid4()
            attempts.append(
                {
                    "id": ids[i],
                    "assessment_id": assessment_id,
                    "user_id": user,
                    "number": 1,
                    "status": "GRADED",
                    "question_ids": [question.id],
                    "submitted_at": datetime.now(UTC),
                }
            )
            rows.append({"attempt_id": ids[i], "question_id": question.id, "response": answers[i]})
            analysis = analyse(kind, dict(answers[i]), question) if checked else None
            if analysis is None:
                continue
            checked_rows.append(
                {
                    "attempt_id": ids[i],
                    "question_id": question.id,
                    "user_id": user,
                    "kind": kind.value,
                    "fingerprint_count": len(analysis.hashes),
                }
            )
            prints += [
                {
                    "attempt_id": ids[i],
                    "question_id": question.id,
                    "position": p,
                    "hash": fp.hash,
                    "start": fp.start,
                    "end": fp.end,
                }
                for p, fp in enumerate(analysis.fingerprints)
            ]
            bands += [
                {"attempt_id": ids[i], "question_id": question.id, "key": key}
                for key in set(analysis.band_keys)
            ]
            if kind is AnswerKind.TEXT and embeddings.available():
                essay = _embedded(answers[i]["text"])
                sentences.append(
                    {
                        "attempt_id": ids[i],
                        "question_id": question.id,
                        "centroid": embeddings.to_bytes(essay.centroid),
                        "vectors": embeddings.to_bytes(essay.vectors),
                        "spans": [b for s in essay.spans for b in (s.start, s.end)],
                    }
                )
        async with sessions.begin() as session:
            await session.execute(insert(AttemptRow), attempts)
            await session.execute(insert(AnswerRow), rows)
            for table, values in (
                (CheckedAnswerRow, checked_rows),
                (FingerprintRow, prints),
                (BandRow, bands),
                (SentencesRow, sentences),
            ):
                if values:
                    await session.execute(insert(table), values)
    return ids


_ENCODED: dict[str, embeddings.Vectors] = {}


def _embedded(text: str) -> EmbeddedEssay:
    """As the checker embeds an essay; each distinct sentence of the pool encoded once."""
    found = split_sentences(text)
    missing = sorted({s.text for s in found} - set(_ENCODED))
    if missing:
        _ENCODED.update(zip(missing, embeddings.encode(missing), strict=True))
    return EmbeddedEssay(
        [Span(s.start, s.end) for s in found],
        np.stack([_ENCODED[s.text] for s in found]),
    )


async def measure(settings: Settings, population: str, size: int, probes: int) -> float:
    """Median milliseconds to check one new submission with `size` stored: population is
    "random" or "shared" (code) or "essay" (with the paraphrase stage when the `ai` extra is
    installed) or "essay_fingerprints" (without it)."""
    kind = AnswerKind.TEXT if population.startswith("essay") else AnswerKind.CODE
    engine = create_engine(service_dsn(settings, "assessments"))
    sessions = session_factory(engine)
    try:
        rng = random.Random(size)
        pool = _sentences() if kind is AnswerKind.TEXT else _functions()
        question, assessment_id = await _question(sessions, kind)
        if kind is AnswerKind.TEXT and embeddings.available():
            _embedded(" ".join(pool))  # the whole pool at once, not in the timed checks
        stored = [synthetic(population, rng, pool) for _ in range(size)]
        await _load(sessions, question, assessment_id, kind, stored, checked=True)
        async with sessions.begin() as session:  # as autovacuum would have by then
            await session.execute(text("ANALYZE"))
        new = await _load(
            sessions,
            question,
            assessment_id,
            kind,
            [synthetic(population, rng, pool) for _ in range(probes)],
            checked=False,
        )
        times = []
        for attempt_id in new:
            began = time.perf_counter()
            async with sessions.begin() as session:
                await check_attempt(
                    session, attempt_id, paraphrase=population != "essay_fingerprints"
                )
            times.append((time.perf_counter() - began) * 1000)
        return statistics.median(times)
    finally:
        await engine.dispose()


def timings(sizes: list[int], probes: int) -> None:
    print("\nTime to check one new submission (median of", probes, "), ms\n")
    paraphrase = "with paraphrase stage" if embeddings.available() else "no `ai` extra"
    print(
        f"| stored submissions | code | code, worst case | essay ({paraphrase}) "
        "| essay, fingerprints only |"
    )
    print("| --- | --- | --- | --- | --- |")
    with database() as settings:
        for size in sizes:
            row = [asyncio.run(measure(settings, p, size, probes)) for p in POPULATIONS]
            print(f"| {size:,} | " + " | ".join(f"{ms:.1f}" for ms in row) + " |", flush=True)
