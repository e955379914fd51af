"""Restore drill at scale: how long `lms backup` and `lms restore` take on a realistic
dataset, against plain pg_dump/pg_restore (custom format, one job, no checks) in the same run.

A PostgreSQL of its own (fsync on, as in production) gets every service's schema by the
migrations, then --users users, --activity notifications (the largest activity table today)
and one enrollment per ten notifications, generated in SQL. Then, timed: `lms backup`
(one snapshot, directory format, parallel jobs, manifest with row counts and checksums);
`lms restore` into a new database (checksums first, then pg_restore, then every table's
row count and migration revision checked): the recovery time objective for this size;
and the baseline, pg_dump -Fc then pg_restore of that file into a third database.

    .venv/bin/python bench/backup_restore.py [--users 100000] [--activity 1000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from common.db import migrations
from common.db.engine import admin_dsn
from common.db.provisioning import provision
from common.infra.ports import free_port
from common.infra.postgres import BIN_DIRS, PostgresServer
from common.infra.process import find_binary
from common.settings import Settings
from lms import backup
from lms.services import available_services

PASSWORD = "bench-admin"
STEPS = (
    "lms backup (snapshot, manifest, checksums)",
    "lms restore (checksums, restore, row counts)",
    "pg_dump -Fc, one job (baseline)",
    "pg_restore of it, one job, no checks (baseline)",
)


async def drop(settings: Settings, *databases: str) -> None:
    conn = await asyncpg.connect(admin_dsn(settings, database="postgres"))
    try:
        for name in databases:  # names of ours, not input
            await conn.execute(f'DROP DATABASE "{name}"')
    finally:
        await conn.close()


async def load(settings: Settings, users: int, activity: int) -> tuple[int, int]:
    """The dataset's rows and the database's size in bytes."""
    conn = await asyncpg.connect(admin_dsn(settings))
    try:
        await conn.execute("SET synchronous_commit = off")
        await conn.execute(
            "INSERT INTO users.users (id, email, password_hash, name, roles) "
            "SELECT gen_random_uuid(), 'learner' || n || '@bench.example', 'x', "
            "'Learner ' || n, ARRAY['STUDENT'] FROM generate_series(1, $1::int) AS n",
            users,
        )
        await conn.execute(
            "INSERT INTO notifications.notifications (id, user_id, category, title, body, "
            "created_at) SELECT gen_random_uuid(), gen_random_uuid(), 'COURSE_UPDATE', "
            "'Lesson ' || n || ' is ready', 'A new lesson was published in a course you "
            "follow. Open it to continue.', now() - (n % 365) * interval '1 day' "
            "FROM generate_series(1, $1::int) AS n",
            activity,
        )
        await conn.execute(
            "INSERT INTO enrollments.enrollments (id, user_id, course_id, enrolled_by, "
            "progress) SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), "
            "gen_random_uuid(), random() FROM generate_series(1, $1::int)",
            activity // 10,
        )
        await conn.execute("ANALYZE")
        size: int = await conn.fetchval("SELECT pg_database_size(current_database())")
    finally:
        await conn.close()
    return users + activity + activity // 10, size


def plain(settings: Settings, target: Settings, folder: Path) -> tuple[float, float, int]:
    """pg_dump -Fc of the same schemas, then pg_restore into ``target``: seconds, seconds,
    bytes."""
    environment = {**os.environ, "PGPASSWORD": settings.secret("pg_admin_password")}
    where = ["-h", settings.pg_host, "-p", str(settings.pg_port), "-U", settings.pg_admin_user]
    file = folder / "plain.dump"
    started = time.perf_counter()
    schemas = [f"--schema={name}" for name in available_services()]
    subprocess.run(
        [
            find_binary("pg_dump", *BIN_DIRS),
            *where,
            "-d",
            settings.pg_database,
            "-Fc",
            "-f",
            str(file),
            *schemas,
        ],
        env=environment,
        check=True,
    )
    dumped = time.perf_counter() - started
    asyncio.run(provision(target, available_services()))  # roles, extensions, empty schemas
    started = time.perf_counter()
    subprocess.run(
        [
            find_binary("pg_restore", *BIN_DIRS),
            *where,
            "-d",
            target.pg_database,
            "--exit-on-error",
            *schemas,
            str(file),
        ],
        env=environment,
        check=True,
    )
    return dumped, time.perf_counter() - started, file.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--activity", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lms-bench-restore-") as name:
        folder = Path(name)
        postgres = PostgresServer(folder / "pg", free_port(), password=PASSWORD)
        with postgres:
            os.environ.update(
                {
                    "LMS_ENV": "test",
                    "LMS_STATE_DIR": str(folder),
                    "LMS_PG_PORT": str(postgres.port),
                    "LMS_PG_ADMIN_PASSWORD": PASSWORD,
                    "LMS_PG_SERVICE_PASSWORD": "bench-service",
                    "LMS_LOG_LEVEL": "ERROR",
                }
            )
            settings = Settings.from_env()
            services = available_services()
            asyncio.run(provision(settings, services))
            for service in services:
                migrations.upgrade(settings, service)
            rows, size = asyncio.run(load(settings, args.users, args.activity))
            rounds: dict[str, list[float]] = {step: [] for step in STEPS}
            for round_number in range(args.rounds):  # alternating, so that drift spreads evenly
                made = backup.backup(settings, services, folder / "backups", jobs=args.jobs)
                restored = backup.restore(
                    replace(settings, pg_database=f"restored{round_number}"),
                    made.path,
                    jobs=args.jobs,
                )
                dumped, loaded, plain_bytes = plain(
                    settings, replace(settings, pg_database=f"plain{round_number}"), folder
                )
                for step, seconds in zip(
                    STEPS, (made.seconds, restored.seconds, dumped, loaded), strict=True
                ):
                    rounds[step].append(seconds)
                shutil.rmtree(made.path)
                asyncio.run(drop(settings, f"restored{round_number}", f"plain{round_number}"))
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    print(
        f"dataset: {args.users} users, {args.activity} notifications, {args.activity // 10} "
        f"enrollments ({rows} rows, database {size / 2**20:.0f} MiB), jobs {args.jobs}, "
        f"measured {when}"
    )
    print(f"{'step (median of ' + str(args.rounds) + ' rounds)':48} {'seconds':>8} {'MiB':>7}")
    medians = {step: statistics.median(times) for step, times in rounds.items()}
    sizes = (made.bytes, made.bytes, plain_bytes, plain_bytes)
    for (step, seconds), size_bytes in zip(medians.items(), sizes, strict=True):
        print(f"{step:48} {seconds:>8.1f} {size_bytes / 2**20:>7.1f}")
    backup_ratio = medians[STEPS[0]] / medians[STEPS[2]]
    restore_ratio = medians[STEPS[1]] / medians[STEPS[3]]
    print(
        f"backup = {backup_ratio:.2f} x pg_dump; "
        f"restore (the RTO for this size) = {restore_ratio:.2f} x plain pg_restore"
    )


if __name__ == "__main__":
    main()
