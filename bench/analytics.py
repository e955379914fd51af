"""A course's engagement per week, from the daily aggregates against the same computed from
the raw statements, in the same run.

Starts PostgreSQL and Redis from the local binaries in a temporary folder, migrates and serves
the users (keys), courses and analytics subgraphs and the router. One course with
`--learners` learners (5,000) and `--per-learner` statements each (60) spread over the past
year in its monthly partitions (views, lesson completions, attempts, graded attempts with a
score, time on task); the daily aggregates are materialised from them with the same rules
the worker applies statement by statement (tests/integration/analytics/test_partitions.py
checks that the two agree), and here the bench checks the weeks again before timing.

Timed, `--rounds` times each, median:
- `course { learningAnalytics { engagement(weeks: 53) } }` through the router (a course
  instructor's token; the analytics subgraph asks courses for the course, then reads the
  course's and the learners' days);
- the course's title alone through the router (the floor of the path: router, courses,
  token checks, on this machine at that moment);
- the same weeks at the service layer from the aggregates (AnalyticsService.course_weeks),
- and from the raw statements (course_weeks_from_statements), in this process, so the
  ratio compares the two SQL reads alone.

Usage: .venv/bin/python bench/analytics.py [--learners 5000] [--per-learner 60] [--rounds 15]
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
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from redis.asyncio import Redis
from sqlalchemy import insert

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


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str], health: str) -> Iterator[None]:
    child = subprocess.Popen(
        [sys.executable, "-m", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        for _ in range(600):
            if child.poll() is not None:
                raise SystemExit(f"{args} exited with {child.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(health, timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise SystemExit(f"{health} did not answer")
        yield
    finally:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


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


async def measure(settings: Settings, course: uuid.UUID, token: str, rounds: int) -> dict[str, Any]:
    router = f"http://127.0.0.1:{settings.router_port}/graphql"
    engine = create_engine(service_dsn(settings, "analytics"), pool_size=2)
    redis = Redis.from_url(settings.redis_url)
    try:
        sessions = session_factory(engine)
        analytics = AnalyticsService(sessions, Partitions(sessions), Quota(redis, "bench", 1, 1))
        since = datetime.now(UTC).date() - timedelta(weeks=53)
        aggregated = await analytics.course_weeks(course, since)
        raw = await analytics.course_weeks_from_statements(course, since)
        assert rounded(aggregated) == rounded(raw), (aggregated, raw)
        async with httpx.AsyncClient(timeout=60) as http:

            async def through_router() -> None:
                response = await http.post(
                    router,
                    json={"query": ENGAGEMENT, "variables": {"c": str(course)}},
                    headers={"Authorization": f"Bearer {token}"},
                )
                body = response.json()
                assert "errors" not in body, body
                weeks = body["data"]["course"]["learningAnalytics"]["engagement"]
                assert len(weeks) == len(aggregated), (len(weeks), len(aggregated))

            async def title_through_router() -> None:  # the same path without analytics
                response = await http.post(
                    router,
                    json={"query": TITLE, "variables": {"c": str(course)}},
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert response.json()["data"]["course"]["title"]

            return {
                "weeks": len(aggregated),
                "title_ms": await median_ms(rounds, title_through_router),
                "router_ms": await median_ms(rounds, through_router),
                "aggregates_ms": await median_ms(
                    rounds, lambda: analytics.course_weeks(course, since)
                ),
                "raw_ms": await median_ms(
                    rounds, lambda: analytics.course_weeks_from_statements(course, since)
                ),
            }
    finally:
        await redis.aclose()
        await engine.dispose()


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--learners", type=int, default=5000)
    options.add_argument("--per-learner", type=int, default=60)
    options.add_argument("--rounds", type=int, default=15)
    args = options.parse_args()
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
            with contextlib.ExitStack() as stack:
                for name in ("users", "courses", "analytics"):
                    health = f"http://127.0.0.1:{settings.service_port(name)}/health"
                    stack.enter_context(process(["lms", "serve", name], env, health))
                router_health = f"http://127.0.0.1:{settings.router_port}/health"
                stack.enter_context(process(router_args, env, router_health))
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
                result = asyncio.run(measure(settings, course, token, args.rounds))
        finally:
            redis.stop()
            postgres.stop()
    print(f"{args.learners} learners, {count} statements over a year (filled in {filled:.0f} s)")
    print(f"engagement, {result['weeks']} weeks, median of {args.rounds}:")
    print(f"  through the router, from the daily aggregates: {result['router_ms']:.1f} ms")
    print(f"  through the router, the course's title only:   {result['title_ms']:.1f} ms")
    print(f"  service layer, from the daily aggregates:      {result['aggregates_ms']:.1f} ms")
    print(f"  service layer, from the raw statements:        {result['raw_ms']:.1f} ms")
    print(f"  raw / aggregates (service layer): {result['raw_ms'] / result['aggregates_ms']:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
