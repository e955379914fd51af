"""The restore drill: data written through the router, `lms backup`, then `lms restore` into
an empty database, and the same data served by a platform on the restored database. Also
what a restore refuses: a damaged or incomplete backup, schemas that already hold data."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from common.db.engine import admin_dsn
from common.infra.ports import free_port
from common.settings import Settings
from lms.services import available_services
from tests.accounts import PASSWORD, account_with_roles, login
from tests.cli.lms_process import lms_environment, one_error_line, run_lms
from tests.conftest import serve_router, subgraph_app
from tests.support import GraphQLClient, serve

CREATE_COURSE = """
mutation($input: CreateCourseInput!) { createCourse(input: $input) { course { id title } } }
"""
COURSE = "query($id: ID!) { course(id: $id) { title instructor { id name } } }"
ME = "{ me { id email name roles } }"


def backup_path(stdout: str) -> Path:
    return Path(stdout.strip().rsplit(": ", 1)[1])


async def database_exists(settings: Settings, name: str) -> bool:
    conn = await asyncpg.connect(admin_dsn(settings, database="postgres"))
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def drop_database(settings: Settings, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn(settings, database="postgres"))
    try:
        # the name is ours (drill_ and hex digits): nothing a user wrote
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def row_count(settings: Settings, table: str) -> int:
    conn = await asyncpg.connect(admin_dsn(settings))
    try:
        count: int = await conn.fetchval(f"SELECT count(*) FROM {table}")  # a fixed name
        return count
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def platform_on(database: str, http: httpx.AsyncClient) -> AsyncIterator[GraphQLClient]:
    """Every subgraph and a router on ``database`` (no workers: the session's consume the
    same queues), on ports of their own."""
    ports = {f"LMS_{name.upper()}_PORT": str(free_port()) for name in available_services()}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"LMS_PG_DATABASE": database, **ports}.items():
            patch.setenv(name, value)
        settings = Settings.from_env()
    async with contextlib.AsyncExitStack() as stack:
        urls = {
            name: await stack.enter_async_context(
                serve(subgraph_app(name, settings), settings.service_port(name))
            )
            for name in available_services()
        }
        router = await stack.enter_async_context(serve_router(urls, settings))
        yield GraphQLClient(http, f"{router}/graphql")


@pytest.fixture
def drill_database(migrated: Settings) -> str:
    return f"drill_{uuid.uuid4().hex[:12]}"


async def test_a_backup_restored_into_an_empty_database_serves_the_same_data(
    users: GraphQLClient,
    migrated: Settings,
    http: httpx.AsyncClient,
    tmp_path: Path,
    drill_database: str,
) -> None:
    author = await account_with_roles(users, migrated, ["INSTRUCTOR", "STUDENT"], "Dora Drill")
    data = await users.data(
        CREATE_COURSE, {"input": {"title": "Disaster Recovery 101"}}, token=author.access_token
    )
    course_id = data["createCourse"]["course"]["id"]

    made = await asyncio.to_thread(run_lms, "backup", "--to", str(tmp_path), env=lms_environment())
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("backed up "), made.stdout
    path = backup_path(made.stdout)
    manifest: dict[str, Any] = json.loads((path / "manifest.json").read_text())
    assert sorted(manifest["services"]) == sorted(available_services())
    user_rows = manifest["services"]["users"]["tables"]["users"]
    assert user_rows >= 1
    assert all(entry["sha256"] for entry in manifest["files"].values())

    restored = await asyncio.to_thread(
        run_lms, "restore", str(path), env=lms_environment(LMS_PG_DATABASE=drill_database)
    )
    try:
        assert restored.returncode == 0, restored.stderr
        assert restored.stdout.startswith("restored and checked "), restored.stdout
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("LMS_PG_DATABASE", drill_database)
            drill = Settings.from_env()
        assert await row_count(drill, "users.users") == user_rows
        async with platform_on(drill_database, http) as graph:
            signed_in = await login(graph, author.email, PASSWORD)  # the password hash came back
            token = signed_in["data"]["login"]["accessToken"]
            me = await graph.data(ME, token=token)
            assert me["me"] == {
                "id": author.id,
                "email": author.email,
                "name": "Dora Drill",
                "roles": ["INSTRUCTOR", "STUDENT"],
            }
            course = await graph.data(COURSE, {"id": course_id}, token=token)  # a draft
            assert course["course"] == {
                "title": "Disaster Recovery 101",
                "instructor": {"id": author.id, "name": "Dora Drill"},
            }
    finally:
        await drop_database(migrated, drill_database)


async def test_a_restore_over_data_is_refused_and_overwrites_nothing(
    migrated: Settings, tmp_path: Path
) -> None:
    made = await asyncio.to_thread(
        run_lms, "backup", "--to", str(tmp_path), "courses", env=lms_environment()
    )
    assert made.returncode == 0, made.stderr
    before = await row_count(migrated, "courses.courses")

    refused = await asyncio.to_thread(
        run_lms, "restore", str(backup_path(made.stdout)), env=lms_environment()
    )

    assert refused.returncode == 2
    assert "schema courses of database" in one_error_line(refused)
    assert "is not empty" in refused.stderr
    assert await row_count(migrated, "courses.courses") == before


async def test_a_damaged_backup_is_refused_before_the_database_is_touched(
    migrated: Settings, tmp_path: Path, drill_database: str
) -> None:
    made = await asyncio.to_thread(
        run_lms, "backup", "--to", str(tmp_path), "users", env=lms_environment()
    )
    assert made.returncode == 0, made.stderr
    path = backup_path(made.stdout)
    data_file = next(file for file in sorted((path / "dump").iterdir()) if file.suffix == ".gz")
    damaged = bytearray(data_file.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    data_file.write_bytes(bytes(damaged))

    refused = await asyncio.to_thread(
        run_lms, "restore", str(path), env=lms_environment(LMS_PG_DATABASE=drill_database)
    )

    assert refused.returncode == 2
    assert f"{data_file.name} fails its checksum" in one_error_line(refused)
    assert not await database_exists(migrated, drill_database)

    data_file.unlink()
    incomplete = await asyncio.to_thread(run_lms, "restore", str(path), env=lms_environment())
    assert f"dump/{data_file.name} is missing" in one_error_line(incomplete)


def test_what_is_not_a_backup_is_named_in_one_line(tmp_path: Path) -> None:
    done = run_lms("restore", str(tmp_path), env=lms_environment())
    assert done.returncode == 2
    assert one_error_line(done) == f"error: {tmp_path} is not a backup: it has no manifest.json"

    (tmp_path / "manifest.json").write_text("{not json")
    done = run_lms("restore", str(tmp_path), env=lms_environment())
    assert "manifest.json is unreadable" in one_error_line(done)

    done = run_lms("backup", "--to", str(tmp_path), "grades", env=lms_environment())
    assert done.returncode == 2
    assert "grades" in one_error_line(done)

    done = run_lms("backup", "--jobs", "0", env=lms_environment())
    assert done.returncode == 2
    assert "--jobs must be at least 1" in one_error_line(done)


def test_backups_beyond_keep_are_removed_oldest_first(tmp_path: Path) -> None:
    for _ in range(3):
        made = run_lms(
            "backup", "--to", str(tmp_path), "--keep", "2", "users", env=lms_environment()
        )
        assert made.returncode == 0, made.stderr
    kept = sorted(path.name for path in tmp_path.iterdir())
    assert len(kept) == 2
    assert backup_path(made.stdout).name == kept[-1]
