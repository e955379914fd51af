"""A course's analytics from the aggregates against the same computed from the raw
statements, in the same run, and through the router.

Starts PostgreSQL and Redis from the local binaries in a temporary folder, migrates and serves
the users (keys), courses and analytics subgraphs and the router. One course with
`--learners` learners (5,000) and `--per-learner` statements each (60) spread over the past
year in its monthly partitions (views, lesson completions, attempts, graded attempts with a
score and ten questions' results, time on task); the aggregates are materialised from them
with the same rules the worker applies statement by statement (the tests check that the two
agree), and here the bench checks again that aggregates and raw statements agree before
timing. A fifth of the learners are in no cohort, the rest in four.

Timed, `--rounds` times each, median:
- through the router (a course instructor's token), with the analytics subgraph asking
  courses for the course every request, then with it keeping the answer 10 s
  (LMS_ANALYTICS_COURSE_CACHE_SECONDS): `engagement(weeks: 53)`; the course's title alone
  (the floor of the path: router, courses, token checks, on this machine at that moment);
  `items(weeks: 53, period: MONTH)` and `cohorts` together;
- at the service layer, in this process, so the ratios compare the SQL reads alone: the
  53 weeks, the questions by month and the cohorts, from the aggregates and from the raw
  statements.

Usage: .venv/bin/python bench/analytics.py [--learners 5000] [--per-learner 60] [--rounds 15]
       [--explain]  (also prints the aggregate reads' plans, EXPLAIN ANALYZE)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import astuple, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from redis.asyncio import Redis
from servers import serving
from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from common.auth import Role, TokenIssuer
from common.auth.keys import platform_signing_key
from common.auth.quota import Quota
from common.db import create_engine, service_dsn, session_factory
from common.db.engine import dsn, role_name
from common.infra import start_all
from common.infra.ports import free_port
from common.infra.postgres import PostgresServer
from common.infra.redis import RedisServer
from common.settings import SERVICES, Settings
from subgraphs.analytics.course_stats import CourseStats, ItemTotals, Period
from subgraphs.analytics.partitions import Partitions, create_partition, month_of, next_month
from subgraphs.analytics.service import AnalyticsService, DayTotals
from subgraphs.users.models import UserRow

ROOT = Path(__file__).resolve().parents[1]
LESSONS = 20
ENGAGEMENT = """
query($c: ID!) {
  course(id: $c) {
    learningAnalytics {
      engagement(weeks: 53) {
        start activeLearners statements views completions attempts secondsOnTask averageScore
      }
    }
  }
}
"""
TITLE = "query($c: ID!) { course(id: $c) { title } }"
CREATE_COURSE = "mutation($t: String!) { createCourse(input: {title: $t}) { course { id } } }"
# Statements of the course: one learner per `l`, `n` statements each, over the past year.
STATEMENTS = """
INSERT INTO analytics.statements
  (id, actor_id, verb, object_type, object_id, course_id, score_scaled, duration_seconds,
   timestamp)
SELECT gen_random_uuid(), learner, verb,
       CASE WHEN verb IN ('attempted', 'passed', 'failed') THEN 'assessment' ELSE 'lesson' END,
       ('00000000-0000-4000-8000-'
        || lpad(to_hex(1 + floor(random() * $3::int)::int), 12, '0'))::uuid,
       $1,
       CASE WHEN verb IN ('passed', 'failed') THEN random() END,
       CASE WHEN verb = 'viewed' THEN 30 + (random() * 900)::int END,
       now() - random() * interval '364 days'
FROM (
  SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(l), 12, '0'))::uuid AS learner,
         (ARRAY['viewed', 'viewed', 'viewed', 'viewed', 'completed', 'completed', 'attempted',
                'attempted', 'passed', 'failed'])[1 + (random() * 9)::int] AS verb
  FROM generate_series(1, $2) AS l, generate_series(1, $4) AS n
) AS drawn
"""
COURSE_DAYS = """
INSERT INTO analytics.course_days
  (course_id, day, statements, views, completions, attempts, seconds, scores, score_sum)
SELECT course_id, (timestamp AT TIME ZONE 'UTC')::date, count(*),
       count(*) FILTER (WHERE verb IN ('viewed', 'launched')),
       count(*) FILTER (WHERE verb = 'completed' AND object_type = 'lesson'),
       count(*) FILTER (WHERE verb = 'attempted'),
       coalesce(sum(duration_seconds), 0),
       count(*) FILTER (WHERE verb IN ('passed', 'failed') AND score_scaled IS NOT NULL),
       coalesce(sum(score_scaled) FILTER (WHERE verb IN ('passed', 'failed')), 0)
FROM analytics.statements WHERE course_id = $1 GROUP BY 1, 2
"""
LEARNER_DAYS = """
INSERT INTO analytics.learner_days
  (user_id, course_id, day, statements, views, completions, attempts, seconds, scores,
   score_sum)
SELECT actor_id, course_id, (timestamp AT TIME ZONE 'UTC')::date, count(*),
       count(*) FILTER (WHERE verb IN ('viewed', 'launched')),
       count(*) FILTER (WHERE verb = 'completed' AND object_type = 'lesson'),
       count(*) FILTER (WHERE verb = 'attempted'),
       coalesce(sum(duration_seconds), 0),
       count(*) FILTER (WHERE verb IN ('passed', 'failed') AND score_scaled IS NOT NULL),
       coalesce(sum(score_scaled) FILTER (WHERE verb IN ('passed', 'failed')), 0)
FROM analytics.statements WHERE course_id = $1 GROUP BY 1, 2, 3
"""
LEARNER_WEEKS = """
INSERT INTO analytics.learner_weeks (user_id, course_id, week)
SELECT DISTINCT user_id, course_id, date_trunc('week', day)::date
FROM analytics.learner_days WHERE course_id = $1
"""
COURSE_WEEKS = """
INSERT INTO analytics.course_weeks (course_id, week, learners)
SELECT course_id, week, count(*) FROM analytics.learner_weeks WHERE course_id = $1 GROUP BY 1, 2
"""

# Each graded attempt's ten questions (right with a chance of its score), kept with the
# statement as submission.graded's items are; then the questions' days, the learners'
# per-course rows and their cohorts (four, and a fifth of the learners in none).
ITEMS = """
UPDATE analytics.statements AS s SET extensions = jsonb_build_object(
  'attempt_id', gen_random_uuid(),
  'items', (SELECT jsonb_agg(jsonb_build_object(
              'question_id', ('00000000-0000-4000-a000-' || lpad(to_hex(q), 12, '0'))::uuid,
              'points', right_answer::int, 'max_points', 1, 'correct', right_answer))
            FROM (SELECT q, random() < s.score_scaled AS right_answer
                  FROM generate_series(1, $2) AS q) AS answered))
WHERE s.course_id = $1 AND s.verb IN ('passed', 'failed')
"""
ITEM_DAYS = """
INSERT INTO analytics.item_days
  (question_id, assessment_id, day, week, month, course_id, answers, correct, score_sum,
   total_sum, total_squares, correct_total_sum)
SELECT (item->>'question_id')::uuid, s.object_id, (s.timestamp AT TIME ZONE 'UTC')::date,
       date_trunc('week', s.timestamp AT TIME ZONE 'UTC')::date,
       date_trunc('month', s.timestamp AT TIME ZONE 'UTC')::date, s.course_id, count(*),
       count(*) FILTER (WHERE (item->>'correct')::boolean),
       sum((item->>'points')::float / (item->>'max_points')::float), sum(s.score_scaled),
       sum(s.score_scaled * s.score_scaled),
       coalesce(sum(s.score_scaled) FILTER (WHERE (item->>'correct')::boolean), 0)
FROM analytics.statements AS s, jsonb_array_elements(s.extensions->'items') AS item
WHERE s.course_id = $1 AND s.verb IN ('passed', 'failed') GROUP BY 1, 2, 3, 4, 5, 6
"""
LEARNER_COURSES = """
INSERT INTO analytics.learner_courses
  (user_id, course_id, first_seen, last_seen, completed_at, scores, score_sum, progress)
SELECT actor_id, course_id, min(timestamp), max(timestamp), NULL,
       count(*) FILTER (WHERE verb IN ('passed', 'failed') AND score_scaled IS NOT NULL),
       coalesce(sum(score_scaled) FILTER (WHERE verb IN ('passed', 'failed')), 0), 0
FROM analytics.statements WHERE course_id = $1 GROUP BY 1, 2
"""
LEARNER_COHORTS = """
INSERT INTO analytics.learner_cohorts (user_id, course_id, cohort_id)
SELECT user_id, course_id,
       ('00000000-0000-4000-b000-' || lpad(to_hex(abs(hashtext(user_id::text)) % 5), 12, '0'))::uuid
FROM analytics.learner_courses WHERE course_id = $1
"""
NO_COHORT = "DELETE FROM analytics.learner_cohorts WHERE cohort_id = $1"
QUESTIONS = 10
ASSESSMENTS = LESSONS  # graded statements' objects are drawn from as many ids
ITEMS_OF_A_YEAR = """
query($c: ID!) {
  course(id: $c) {
    learningAnalytics {
      items(weeks: 53, period: MONTH) { questionId answers difficulty discrimination
                                        periods { start answers shareCorrect } }
    }
  }
}
"""
ITEMS_OF_ONE = """
query($c: ID!) {
  course(id: $c) {
    learningAnalytics {
      items(assessmentId: "00000000-0000-4000-8000-000000000001", weeks: 12) {
        questionId answers difficulty discrimination periods { start answers shareCorrect }
      }
    }
  }
}
"""
COHORTS = """
query($c: ID!) {
  course(id: $c) {
    learningAnalytics {
      cohorts { cohort { id } learners activeLastWeek meanProgress meanScore completions }
    }
  }
}
"""


async def insert_teacher(settings: Settings) -> uuid.UUID:
    teacher = uuid.uuid4()
    engine = create_engine(service_dsn(settings, "users"), pool_size=1)
    try:
        async with session_factory(engine).begin() as session:
            await session.execute(
                insert(UserRow),
                [
                    {
                        "id": teacher,
                        "email": "bench-teacher@example.org",
                        "password_hash": "!",  # no password: a minted token only
                        "name": "Bench Teacher",
                        "roles": [Role.STUDENT.value, Role.INSTRUCTOR.value],
                    }
                ],
            )
    finally:
        await engine.dispose()
    return teacher


async def fill(settings: Settings, course: uuid.UUID, learners: int, each: int) -> int:
    """The course's statements over the past year (in their months' partitions) and the
    daily aggregates of them; returns how many statements."""
    engine = create_engine(service_dsn(settings, "analytics"), pool_size=1)
    try:
        sessions = session_factory(engine)
        now = datetime.now(UTC)
        month = month_of(now - timedelta(days=366))
        async with sessions.begin() as session:
            while month <= month_of(now):
                await create_partition(session, month)
                month = next_month(month)
    finally:
        await engine.dispose()
    raw = dsn(
        settings, role_name("analytics"), settings.pg_password("analytics"), driver="postgresql"
    )
    connection = await asyncpg.connect(raw)
    try:
        await connection.execute(STATEMENTS, course, learners, LESSONS, each)
        await connection.execute(
            "INSERT INTO analytics.statement_ids SELECT id, actor_id, timestamp "
            "FROM analytics.statements WHERE course_id = $1",
            course,
        )
        await connection.execute(COURSE_DAYS, course)
        await connection.execute(LEARNER_DAYS, course)
        await connection.execute(LEARNER_WEEKS, course)
        await connection.execute(COURSE_WEEKS, course)
        await connection.execute(ITEMS, course, QUESTIONS)
        await connection.execute(ITEM_DAYS, course)
        await connection.execute(LEARNER_COURSES, course)
        await connection.execute(LEARNER_COHORTS, course)
        await connection.execute(NO_COHORT, uuid.UUID("00000000-0000-4000-b000-000000000000"))
        await connection.execute("ANALYZE")
        count: int = await connection.fetchval(
            "SELECT count(*) FROM analytics.statements WHERE course_id = $1", course
        )
    finally:
        await connection.close()
    return count


def rounded(weeks: list[DayTotals]) -> list[DayTotals]:
    """The weeks with their score sums to 6 places (floats summed in another order)."""
    return [replace(week, score_sum=round(week.score_sum, 6)) for week in weeks]


async def median_ms(rounds: int, call: Callable[[], Awaitable[object]]) -> float:
    await call()  # warm: pools, plans, caches
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        await call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def rounded_items(items: list[ItemTotals]) -> list[tuple[Any, ...]]:
    return [
        (
            item.assessment_id,
            item.question_id,
            [
                (start, sums.answers, sums.correct, *(round(v, 6) for v in astuple(sums)[2:]))
                for start, sums in item.periods
            ],
        )
        for item in items
    ]


async def explain(engine: AsyncEngine, reads: dict[str, Callable[[], Awaitable[object]]]) -> None:
    """Each read's SQL statements (as it sends them) through EXPLAIN ANALYZE, printed."""
    sent: list[tuple[str, Any]] = []

    def capture(*args: Any) -> None:
        sent.append((args[2], args[3]))  # conn, cursor, statement, parameters, …

    for label, read in reads.items():
        sent.clear()
        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        try:
            await read()
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", capture)
        async with engine.connect() as connection:
            for statement, parameters in sent:
                plan = await connection.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                )
                print(f"--- {label}:\n" + "\n".join(row[0] for row in plan))


async def measure_services(
    settings: Settings, course: uuid.UUID, rounds: int, plans: bool
) -> dict[str, Any]:
    """The SQL reads alone, in this process: from the aggregates and from the raw statements,
    after checking that the two agree."""
    engine = create_engine(service_dsn(settings, "analytics"), pool_size=2)
    redis = Redis.from_url(settings.redis_url)
    try:
        sessions = session_factory(engine)
        analytics = AnalyticsService(sessions, Partitions(sessions), Quota(redis, "bench", 1, 1))
        stats = CourseStats(sessions)
        now = datetime.now(UTC)
        since = now.date() - timedelta(weeks=53)
        aggregated = await analytics.course_weeks(course, since)
        raw = await analytics.course_weeks_from_statements(course, since)
        assert rounded(aggregated) == rounded(raw), (aggregated, raw)
        items = await stats.items(course, None, since, Period.MONTH)
        raw_items = await stats.items_from_statements(course, None, since, Period.MONTH)
        assert rounded_items(items) == rounded_items(raw_items)
        cohorts = await stats.cohorts(course, now)
        assert cohorts == await stats.cohorts_from_statements(course, now), cohorts
        if plans:
            await explain(
                engine,
                {
                    "engagement": lambda: analytics.course_weeks(course, since),
                    "items": lambda: stats.items(course, None, since, Period.MONTH),
                    "cohorts": lambda: stats.cohorts(course, now),
                },
            )
        return {
            "weeks": len(aggregated),
            "items": len(items),
            "cohorts": len(cohorts),
            "aggregates_ms": await median_ms(rounds, lambda: analytics.course_weeks(course, since)),
            "raw_ms": await median_ms(
                rounds, lambda: analytics.course_weeks_from_statements(course, since)
            ),
            "items_ms": await median_ms(
                rounds, lambda: stats.items(course, None, since, Period.MONTH)
            ),
            "items_raw_ms": await median_ms(
                rounds, lambda: stats.items_from_statements(course, None, since, Period.MONTH)
            ),
            "cohorts_ms": await median_ms(rounds, lambda: stats.cohorts(course, now)),
            "cohorts_raw_ms": await median_ms(
                rounds, lambda: stats.cohorts_from_statements(course, now)
            ),
        }
    finally:
        await redis.aclose()
        await engine.dispose()


async def measure_router(
    settings: Settings, course: uuid.UUID, token: str, rounds: int, weeks: int
) -> dict[str, float]:
    """Through the router: the engagement query, the course's title alone (the path's floor
    at that moment), and the questions and cohorts."""
    router = f"http://127.0.0.1:{settings.router_port}/graphql"
    async with httpx.AsyncClient(timeout=60) as http:

        async def ask(query: str) -> dict[str, Any]:
            response = await http.post(
                router,
                json={"query": query, "variables": {"c": str(course)}},
                headers={"Authorization": f"Bearer {token}"},
            )
            body: dict[str, Any] = response.json()
            assert "errors" not in body, body
            course_data: dict[str, Any] = body["data"]["course"]
            return course_data

        async def engagement() -> None:
            found = (await ask(ENGAGEMENT))["learningAnalytics"]["engagement"]
            assert len(found) == weeks, (len(found), weeks)

        async def title() -> None:  # the same path without analytics
            assert (await ask(TITLE))["title"]

        async def items(query: str, questions: int) -> None:
            assert len((await ask(query))["learningAnalytics"]["items"]) == questions

        async def cohorts() -> None:
            assert len((await ask(COHORTS))["learningAnalytics"]["cohorts"]) == 5

        return {
            "title_ms": await median_ms(rounds, title),
            "router_ms": await median_ms(rounds, engagement),
            "year_items_ms": await median_ms(
                rounds, lambda: items(ITEMS_OF_A_YEAR, ASSESSMENTS * QUESTIONS)
            ),
            "items_ms": await median_ms(rounds, lambda: items(ITEMS_OF_ONE, QUESTIONS)),
            "cohorts_ms": await median_ms(rounds, cohorts),
        }


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--learners", type=int, default=5000)
    options.add_argument("--per-learner", type=int, default=60)
    options.add_argument("--rounds", type=int, default=15)
    options.add_argument("--explain", action="store_true", help="print the reads' plans")
    args = options.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="lms-bench-analytics-") as folder:
        state = Path(folder)
        pg_port, redis_port = free_port(), free_port()
        env = {
            **os.environ,
            "LMS_ENV": "test",
            "LMS_STATE_DIR": folder,
            "LMS_PG_PORT": str(pg_port),
            "LMS_PG_ADMIN_PASSWORD": "bench-admin",
            "LMS_PG_SERVICE_PASSWORD": "bench-service",
            "LMS_REDIS_PORT": str(redis_port),
            "LMS_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "LMS_ROUTER_PORT": str(free_port()),
            "LMS_LOG_LEVEL": "WARNING",
            **{f"LMS_{name.upper()}_PORT": str(free_port()) for name in SERVICES},
        }
        for name in ("LMS_JWKS_URL", "LMS_JWT_PRIVATE_KEY_FILE", "LMS_TOKEN_URL"):
            env.pop(name, None)
        for name in SERVICES:
            env.pop(f"LMS_{name.upper()}_URL", None)
        os.environ.clear()
        os.environ.update(env)
        settings = Settings.from_env()
        postgres = PostgresServer(state / "postgres", pg_port, password="bench-admin", fast=True)
        redis = RedisServer(state / "redis", redis_port, fast=True)
        start_all([postgres, redis])
        try:
            subprocess.run(
                [sys.executable, "-m", "lms", "migrate", "users", "courses", "analytics"],
                env=env,
                check=True,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
            )
            teacher = asyncio.run(insert_teacher(settings))
            issuer = TokenIssuer(
                platform_signing_key(settings),
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                ttl_seconds=3600,
            )
            token = issuer.issue(teacher, frozenset({Role.STUDENT, Role.INSTRUCTOR}))
            router_args = [
                "router",
                "serve",
                "--supergraph=schema/supergraph.graphql",
                f"--port={settings.router_port}",
                *(f"--subgraph-url={name}={settings.service_url(name)}" for name in SERVICES),
                f"--jwks-url={settings.jwks_url}",
                f"--jwt-issuer={settings.jwt_issuer}",
                f"--jwt-audience={settings.jwt_audience}",
                "--no-watch",
                "--log-level=WARNING",
            ]
            analytics_health = f"http://127.0.0.1:{settings.service_port('analytics')}/health"
            no_cache = {**env, "LMS_ANALYTICS_COURSE_CACHE_SECONDS": "0"}
            lms_analytics = ["-m", "lms", "serve", "analytics"]
            with contextlib.ExitStack() as stack:
                for name in ("users", "courses"):
                    health = f"http://127.0.0.1:{settings.service_port(name)}/health"
                    stack.enter_context(
                        serving(["-m", "lms", "serve", name], env, health, quiet=True)
                    )
                router_health = f"http://127.0.0.1:{settings.router_port}/health"
                stack.enter_context(serving(["-m", *router_args], env, router_health, quiet=True))
                created = httpx.post(
                    f"http://127.0.0.1:{settings.router_port}/graphql",
                    json={"query": CREATE_COURSE, "variables": {"t": "Benchmarked Course"}},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                ).json()
                course = uuid.UUID(created["data"]["createCourse"]["course"]["id"])
                started = time.perf_counter()
                count = asyncio.run(fill(settings, course, args.learners, args.per_learner))
                filled = time.perf_counter() - started
                result = asyncio.run(measure_services(settings, course, args.rounds, args.explain))
                weeks = result["weeks"]
                # The analytics subgraph asking courses every request, then keeping the
                # answer (LMS_ANALYTICS_COURSE_CACHE_SECONDS, 10 s by default).
                with serving(lms_analytics, no_cache, analytics_health, quiet=True):
                    asked = asyncio.run(measure_router(settings, course, token, args.rounds, weeks))
                with serving(lms_analytics, env, analytics_health, quiet=True):
                    kept = asyncio.run(measure_router(settings, course, token, args.rounds, weeks))
        finally:
            redis.stop()
            postgres.stop()
    print(f"{args.learners} learners, {count} statements over a year (filled in {filled:.0f} s)")
    print(f"load average before the run: {load:.2f} (1 min), after: {os.getloadavg()[0]:.2f}")
    print(f"median of {args.rounds}, ms: courses asked every request | answer kept 10 s")
    for label, key in (
        (f"engagement, {weeks} weeks, through the router", "router_ms"),
        ("the course's title alone through the router", "title_ms"),
        (f"items, {result['items']} questions by month over 53 weeks", "year_items_ms"),
        (f"items of one assessment ({QUESTIONS} questions), 12 weeks", "items_ms"),
        (f"cohorts ({result['cohorts']})", "cohorts_ms"),
    ):
        print(f"  {label}: {asked[key]:.1f} | {kept[key]:.1f}")
    print("service layer, ms: from the aggregates | from the raw statements | ratio")
    for label, fast, slow in (
        ("engagement", "aggregates_ms", "raw_ms"),
        ("items", "items_ms", "items_raw_ms"),
        ("cohorts", "cohorts_ms", "cohorts_raw_ms"),
    ):
        ratio = result[slow] / result[fast]
        print(f"  {label}: {result[fast]:.1f} | {result[slow]:.1f} | {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
