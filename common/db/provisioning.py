"""One database, one schema and one role per subgraph; each role can touch only its schema.

Identifiers cannot be bound as parameters, so every statement is built on the server with
``format('%I', $1)`` / ``format('%L', $2)`` from bound values: nothing is spliced in Python.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from common.db.engine import admin_dsn, role_name
from common.settings import Settings


async def formatted(conn: asyncpg.Connection, template: str, *values: str) -> str:
    """``template`` with ``values`` put in by the server's ``format()`` (%I, %L)."""
    statement: str = await conn.fetchval(f"SELECT format('{template}', {_params(values)})", *values)
    return statement


async def _run_formatted(conn: asyncpg.Connection, template: str, *values: str) -> None:
    await conn.execute(await formatted(conn, template, *values))


def _params(values: tuple[str, ...]) -> str:
    return ", ".join(f"${index}::text" for index in range(1, len(values) + 1))


async def ensure_database(settings: Settings) -> None:
    conn = await asyncpg.connect(admin_dsn(settings, database="postgres"))
    try:
        exists = await conn.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", settings.pg_database
        )
        if not exists:
            await _run_formatted(conn, "CREATE DATABASE %I", settings.pg_database)
    finally:
        await conn.close()


async def provision(settings: Settings, services: Iterable[str]) -> None:
    """Create (or bring up to date) the database, roles and schemas. Idempotent."""
    await ensure_database(settings)
    conn = await asyncpg.connect(admin_dsn(settings))
    try:
        await conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        await _run_formatted(conn, "REVOKE ALL ON DATABASE %I FROM PUBLIC", settings.pg_database)
        await conn.execute("CREATE SCHEMA IF NOT EXISTS extensions")
        await conn.execute("GRANT USAGE ON SCHEMA extensions TO PUBLIC")
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA extensions")
        await conn.execute("CREATE EXTENSION IF NOT EXISTS citext SCHEMA extensions")
        for service in services:
            await _provision_service(conn, settings, service)
    finally:
        await conn.close()


async def _provision_service(conn: asyncpg.Connection, settings: Settings, service: str) -> None:
    role = role_name(service)
    password = settings.pg_password(service)
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
    verb = "ALTER" if exists else "CREATE"
    await _run_formatted(
        conn,
        f"{verb} ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L",
        role,
        password,
    )
    await _run_formatted(conn, "GRANT CONNECT ON DATABASE %I TO %I", settings.pg_database, role)
    await _run_formatted(conn, "CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I", service, role)
    await _run_formatted(conn, "ALTER SCHEMA %I OWNER TO %I", service, role)
    await _run_formatted(conn, "ALTER ROLE %I SET search_path = %I, extensions", role, service)
