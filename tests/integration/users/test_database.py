"""The database layout: each subgraph's role sees only its own schema; migrations match models."""

from __future__ import annotations

import importlib

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from common.db import migrations, service_dsn
from common.db.engine import dsn, role_name
from common.db.provisioning import provision
from common.settings import Settings
from lms.services import available_services


def _connect_as(settings: Settings, service: str) -> str:
    return dsn(settings, role_name(service), settings.pg_password(service), driver="postgresql")


async def test_a_role_cannot_read_or_write_another_schema(migrated: Settings) -> None:
    await provision(migrated, ["users", "courses"])
    courses = await asyncpg.connect(_connect_as(migrated, "courses"))
    try:
        await courses.execute("CREATE TABLE IF NOT EXISTS probe (id int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await courses.fetch("SELECT * FROM users.users")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await courses.execute("CREATE TABLE public.sneaky (id int)")
    finally:
        await courses.close()
    users = await asyncpg.connect(_connect_as(migrated, "users"))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await users.fetch("SELECT * FROM courses.probe")
        assert await users.fetchval("SELECT count(*) >= 0 FROM users.users")
    finally:
        await users.close()
        courses = await asyncpg.connect(_connect_as(migrated, "courses"))
        await courses.execute("DROP TABLE IF EXISTS probe")  # the schema matches its models
        await courses.close()


async def test_provisioning_twice_is_harmless(migrated: Settings) -> None:
    await provision(migrated, ["users"])
    await provision(migrated, ["users"])


@pytest.mark.parametrize("service", available_services())
async def test_migrations_match_the_models(migrated: Settings, service: str) -> None:
    metadata = importlib.import_module(f"subgraphs.{service}.models").Base.metadata
    engine = migrations.migration_engine(service_dsn(migrated, service))

    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts=migrations.context_options(metadata))
        return list(compare_metadata(context, metadata))

    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []
