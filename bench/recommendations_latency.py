"""What a recommendation costs the analytics store at an institution's scale: the reads of
recommendations/store.py and the blend, against the floor of one indexed read, same run.

Starts PostgreSQL from the local binaries in a temporary folder and migrates the analytics
schema. `learner_courses` gets `--learners` learners (20,000) with 3 to 10 courses each out
of `--courses` (500), drawn with a strong skew (the most taken course has thousands of
learners), half of them completed. The learner asked about took the 10 most taken courses:
the worst case, as their co-takers are the most numerous. Timed, `--rounds` times each,
median, in this process (no router, no peers: those calls are the same as any other
field's); `course_pairs` filled as migration 0004 backfills it:
- `taken`: the learner's courses (the floor: one read by primary key);
- `co_counts` of their 10 courses from `course_pairs` (kept by the event handlers), and the
  same counted at read time by a grouped self-join of `learner_courses` (the first version);
- `most_taken(100)` and `takers` of every candidate (`course_learners`);
- `collaborative` + `blend` in Python over what those return.

Usage: .venv/bin/python bench/recommendations_latency.py [--learners 20000] [--courses 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from sqlalchemy import text

from common.db import create_engine, service_dsn, session_factory
from common.db.engine import dsn, role_name
from common.infra import start_all
from common.infra.ports import free_port
from common.infra.postgres import PostgresServer
from common.settings import Settings
from subgraphs.analytics.recommendations import store
from subgraphs.analytics.recommendations.similarity import blend, collaborative, popularity

ROOT = Path(__file__).resolve().parents[1]
COURSE = "('00000000-0000-4000-8000-' || lpad(to_hex({}), 12, '0'))::uuid"
FILL = f"""
INSERT INTO analytics.learner_courses
  (user_id, course_id, first_seen, last_seen, completed_at, scores, score_sum)
SELECT learner, {COURSE.format("pick")}, now(), now(),
       CASE WHEN random() < 0.5 THEN now() END, 0, 0
FROM (
  SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(l), 12, '0'))::uuid AS learner,
         1 + floor(power(random(), 3) * $2::int)::int AS pick
  FROM generate_series(1, $1::int) AS l,
       LATERAL generate_series(1, 3 + (random() * 7)::int + 0 * l) AS n
) AS drawn
ON CONFLICT DO NOTHING
"""
# What migration 0004 backfills, and the event handlers keep (recommendations/pairs.py).
PAIRS = [
    "INSERT INTO analytics.course_learners (course_id, learners) "
    "SELECT course_id, count(*) FROM analytics.learner_courses GROUP BY course_id",
    "INSERT INTO analytics.course_pairs (source_id, target_id, learners, completed) "
    "SELECT s.course_id, t.course_id, count(*), count(s.completed_at) "
    "FROM analytics.learner_courses s JOIN analytics.learner_courses t "
    "ON t.user_id = s.user_id AND t.course_id <> s.course_id GROUP BY 1, 2",
]
# The co-counts computed from learner_courses at read time (the first version, before 0004).
SELF_JOIN = text(
    "SELECT s.course_id, t.course_id, count(*), count(s.completed_at) "
    "FROM analytics.learner_courses s JOIN analytics.learner_courses t "
    "ON t.user_id = s.user_id AND t.course_id <> s.course_id "
    "WHERE s.course_id = ANY(:sources) GROUP BY 1, 2"
)
ASKER = uuid.UUID("00000000-0000-4000-a000-000000000001")
TOP = f"""
INSERT INTO analytics.learner_courses
  (user_id, course_id, first_seen, last_seen, completed_at, scores, score_sum)
SELECT $1, {COURSE.format("c")}, now(), now(), now(), 0, 0 FROM generate_series(1, 10) AS c
"""


async def fill(settings: Settings, learners: int, courses: int) -> int:
    raw = dsn(
        settings, role_name("analytics"), settings.pg_password("analytics"), driver="postgresql"
    )
    connection = await asyncpg.connect(raw)
    try:
        await connection.execute(FILL, learners, courses)
        await connection.execute(TOP, ASKER)
        for statement in PAIRS:
            await connection.execute(statement)
        await connection.execute("ANALYZE analytics.course_pairs")
        await connection.execute("ANALYZE analytics.course_learners")
        await connection.execute("ANALYZE analytics.learner_courses")
        rows: int = await connection.fetchval("SELECT count(*) FROM analytics.learner_courses")
    finally:
        await connection.close()
    return rows


async def median_ms(rounds: int, call: Callable[[], Awaitable[object]]) -> float:
    await call()  # warm
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def measure(settings: Settings, rounds: int) -> dict[str, float]:
    engine = create_engine(service_dsn(settings, "analytics"), pool_size=1)
    sessions = session_factory(engine)
    try:
        async with sessions() as session:
            taken = await store.taken(session, ASKER)
            counts = await store.co_counts(session, list(taken))
            popular = await store.most_taken(session, 100)
            candidates = set(taken) | {t for _, t in counts} | set(popular)
            learners = await store.takers(session, candidates)

            async def scored() -> object:
                by_cf = collaborative(taken.keys(), counts, learners)
                return blend(by_cf, {}, popularity(learners), exclude=taken.keys(), first=200)

            result = {
                "taken_ms": await median_ms(rounds, lambda: store.taken(session, ASKER)),
                "co_counts_ms": await median_ms(
                    rounds, lambda: store.co_counts(session, list(taken))
                ),
                "self_join_ms": await median_ms(
                    rounds,
                    lambda: session.execute(SELF_JOIN, {"sources": list(taken)}),
                ),
                "most_taken_ms": await median_ms(rounds, lambda: store.most_taken(session, 100)),
                "takers_ms": await median_ms(rounds, lambda: store.takers(session, candidates)),
                "blend_ms": await median_ms(rounds, scored),
                "pairs": float(len(counts)),
                "candidates": float(len(candidates)),
            }
    finally:
        await engine.dispose()
    return result


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--learners", type=int, default=20000)
    options.add_argument("--courses", type=int, default=500)
    options.add_argument("--rounds", type=int, default=15)
    args = options.parse_args()
    with tempfile.TemporaryDirectory(prefix="lms-bench-recommend-") as folder:
        pg_port = free_port()
        env = {
            **os.environ,
            "LMS_ENV": "test",
            "LMS_STATE_DIR": folder,
            "LMS_PG_PORT": str(pg_port),
            "LMS_PG_ADMIN_PASSWORD": "bench-admin",
            "LMS_PG_SERVICE_PASSWORD": "bench-service",
            "LMS_LOG_LEVEL": "WARNING",
        }
        os.environ.clear()
        os.environ.update(env)
        settings = Settings.from_env()
        postgres = PostgresServer(
            Path(folder) / "postgres", pg_port, password="bench-admin", fast=True
        )
        start_all([postgres])
        try:
            subprocess.run(
                [sys.executable, "-m", "lms", "migrate", "analytics"],
                env=env,
                check=True,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
            )
            started = time.perf_counter()
            rows = asyncio.run(fill(settings, args.learners, args.courses))
            filled = time.perf_counter() - started
            result = asyncio.run(measure(settings, args.rounds))
        finally:
            postgres.stop()
    floor = result["taken_ms"]
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {args.learners} learners, {rows} "
        f"learner-course rows over {args.courses} courses (filled in {filled:.0f} s); "
        f"{result['pairs']:.0f} co-taken pairs, {result['candidates']:.0f} candidates; "
        f"median of {args.rounds}\n"
    )
    print("| step | median ms | vs the floor |\n| --- | ---: | ---: |")
    for name, key in (
        ("taken: the learner's courses (floor)", "taken_ms"),
        ("co_counts of their 10 courses (course_pairs)", "co_counts_ms"),
        ("the same by self-join of learner_courses (not kept)", "self_join_ms"),
        ("most_taken(100)", "most_taken_ms"),
        ("takers of every candidate", "takers_ms"),
        ("collaborative + blend (Python)", "blend_ms"),
    ):
        print(f"| {name} | {result[key]:.1f} | {result[key] / floor:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
