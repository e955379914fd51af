"""`lms backup` and `lms restore`: logical backups of the subgraphs' schemas.

A backup is a folder ``lms-<UTC time>`` holding ``pg_dump``'s directory format (one
compressed file per table, dumped and restored in parallel) and ``manifest.json``: the
services and their migration revisions, every table's row count, and every file's size and
SHA-256. The dump and the counts read one snapshot (``pg_export_snapshot``), so the counts
are what the dump holds even while the platform keeps writing. Every schema of a backup
comes from that one snapshot; a backup may name some services only, and a restore may take
some services out of a backup.

A restore goes into an empty database, or into one whose schemas for these services are
empty: it provisions the roles and schemas as ``lms migrate`` does, refuses a schema that
holds anything (nothing is overwritten), checks every file against the manifest before it
starts, and afterwards every table's row count and each schema's migration revision.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from common.db.engine import admin_dsn
from common.db.migrations import VERSION_TABLE
from common.db.provisioning import formatted, provision
from common.infra.postgres import BIN_DIRS
from common.infra.process import find_binary
from common.settings import Settings
from lms.errors import FAILURE, CommandError

MANIFEST = "manifest.json"
DUMP_DIR = "dump"
FORMAT = 1
PREFIX = "lms-"
COMPRESSION = 6  # gzip level: most of the size gain for a fraction of level 9's time
HASH_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a backup or a restore did, for the command to print."""

    path: Path
    tables: int
    rows: int
    seconds: float
    bytes: int


def backup(
    settings: Settings, services: Sequence[str], to: Path, *, jobs: int = 2, keep: int = 0
) -> Outcome:
    """Dump ``services``' schemas into a new folder under ``to``; with ``keep``, remove the
    oldest backups there beyond that many."""
    started = time.perf_counter()
    to.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = to / f"{PREFIX}{stamp}"
    partial = to / f".{PREFIX}{stamp}.partial"
    try:
        partial.mkdir()
        schemas, server_version = asyncio.run(_dump(settings, services, partial / DUMP_DIR, jobs))
        files = _checksums(partial / DUMP_DIR)
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "database": settings.pg_database,
            "server_version": server_version,
            "services": schemas,
            "files": files,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        partial.rename(final)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    if keep > 0:
        for old in sorted(to.glob(f"{PREFIX}*"))[:-keep]:
            shutil.rmtree(old)
    return Outcome(final, *_totals(schemas.values()), time.perf_counter() - started, _size(files))


def restore(
    settings: Settings, path: Path, services: Sequence[str] = (), *, jobs: int = 2
) -> Outcome:
    """Restore ``services`` (default: every one in the backup) from the backup at ``path``
    into ``settings``' database, then check it against the manifest."""
    started = time.perf_counter()
    manifest = read_manifest(path)
    held: dict[str, Any] = manifest["services"]
    chosen = list(services) or sorted(held)
    missing = [name for name in chosen if name not in held]
    if missing:
        raise CommandError(f"{path} holds no backup of {', '.join(missing)}")
    verify_files(path, manifest["files"])
    restored = asyncio.run(_restore(settings, path / DUMP_DIR, chosen, jobs))
    for name in chosen:
        _compare(name, held[name], restored[name])
    totals = _totals(held[name] for name in chosen)
    return Outcome(path, *totals, time.perf_counter() - started, _size(manifest["files"]))


async def _dump(
    settings: Settings, services: Sequence[str], folder: Path, jobs: int
) -> tuple[dict[str, Any], str]:
    async with _snapshot(settings) as (conn, snapshot):
        schemas = await _describe(conn, services)
        server_version: str = await conn.fetchval("SHOW server_version")
        await _run(
            "pg_dump",
            *_connection_arguments(settings),
            f"--snapshot={snapshot}",
            "--format=directory",
            f"--compress={COMPRESSION}",
            f"--jobs={jobs}",
            *(f"--schema={name}" for name in services),
            f"--file={folder}",
            settings=settings,
        )
    return schemas, server_version


async def _restore(
    settings: Settings, folder: Path, services: Sequence[str], jobs: int
) -> dict[str, Any]:
    await provision(settings, services)
    conn = await asyncpg.connect(admin_dsn(settings))
    try:
        for name in services:
            if await _relation_count(conn, name):
                raise CommandError(
                    f"schema {name} of database {settings.pg_database} is not empty: a restore "
                    "goes into empty schemas and overwrites nothing (drop them, or set "
                    "LMS_PG_DATABASE to a new database)"
                )
        await _run(
            "pg_restore",
            *_connection_arguments(settings),
            "--exit-on-error",
            f"--jobs={jobs}",
            *(f"--schema={name}" for name in services),
            str(folder),
            settings=settings,
        )
        await provision(settings, services)  # owners and search paths as `lms migrate` sets them
        return await _describe(conn, services)
    finally:
        await conn.close()


def _totals(schemas: Iterable[dict[str, Any]]) -> tuple[int, int]:
    """Tables and rows."""
    described = list(schemas)
    tables = sum(len(schema["tables"]) for schema in described)
    return tables, sum(sum(schema["tables"].values()) for schema in described)


def _size(files: dict[str, dict[str, Any]]) -> int:
    return sum(entry["bytes"] for entry in files.values())


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except FileNotFoundError as missing:
        raise CommandError(f"{path} is not a backup: it has no {MANIFEST}") from missing
    except (OSError, ValueError) as unreadable:
        raise CommandError(f"{path / MANIFEST} is unreadable: {unreadable}") from unreadable
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CommandError(f"{path / MANIFEST} is not a format-{FORMAT} backup manifest")
    return manifest


def verify_files(path: Path, expected: dict[str, dict[str, Any]]) -> None:
    """Every file the manifest lists, with its size and SHA-256, and no other."""
    found = _checksums(path / DUMP_DIR)
    for name in sorted(expected.keys() | found.keys()):
        if name not in found:
            raise CommandError(f"backup {path} is incomplete: {DUMP_DIR}/{name} is missing")
        if name not in expected:
            raise CommandError(f"backup {path} holds {DUMP_DIR}/{name}, not in its manifest")
        if found[name] != expected[name]:
            raise CommandError(f"backup {path} is damaged: {DUMP_DIR}/{name} fails its checksum")


@asynccontextmanager
async def _snapshot(settings: Settings) -> AsyncIterator[tuple[asyncpg.Connection, str]]:
    """A read-only repeatable-read transaction and its exported snapshot's id, valid while
    the transaction lasts."""
    conn = await asyncpg.connect(admin_dsn(settings))
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot: str = await conn.fetchval("SELECT pg_export_snapshot()")
            yield conn, snapshot
    finally:
        await conn.close()


async def _describe(conn: asyncpg.Connection, services: Iterable[str]) -> dict[str, Any]:
    """Per service: its migration revision and every table's row count."""
    described: dict[str, Any] = {}
    for name in services:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename", name
        )
        if not tables:
            raise CommandError(f"schema {name} has no tables: run `lms migrate {name}` first")
        counts: dict[str, int] = {}
        for row in tables:
            count = await formatted(conn, "SELECT count(*) FROM %I.%I", name, row["tablename"])
            counts[row["tablename"]] = await conn.fetchval(count)
        revision = None
        if VERSION_TABLE in counts:
            version = await formatted(conn, "SELECT version_num FROM %I.%I", name, VERSION_TABLE)
            revision = await conn.fetchval(version)
        described[name] = {"revision": revision, "tables": counts}
    return described


async def _relation_count(conn: asyncpg.Connection, schema: str) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1",
        schema,
    )
    return count


def _compare(name: str, expected: dict[str, Any], restored: dict[str, Any]) -> None:
    if restored["revision"] != expected["revision"]:
        raise CommandError(
            f"restored {name} is at migration {restored['revision']}, "
            f"the backup at {expected['revision']}",
            FAILURE,
        )
    for table, rows in expected["tables"].items():
        found = restored["tables"].get(table)
        if found != rows:
            raise CommandError(
                f"restored {name}.{table} has {found} rows, the backup {rows}", FAILURE
            )


def _checksums(folder: Path) -> dict[str, dict[str, Any]]:
    sums: dict[str, dict[str, Any]] = {}
    for file in sorted(folder.rglob("*")):
        if file.is_file():
            digest = hashlib.sha256()
            with file.open("rb") as stream:
                while chunk := stream.read(HASH_CHUNK):
                    digest.update(chunk)
            relative = file.relative_to(folder).as_posix()
            sums[relative] = {"bytes": file.stat().st_size, "sha256": digest.hexdigest()}
    return sums


def _connection_arguments(settings: Settings) -> list[str]:
    """Where and as whom; the password goes in the environment (PGPASSWORD), never in the
    arguments others can read."""
    return [
        f"--host={settings.pg_host}",
        f"--port={settings.pg_port}",
        f"--username={settings.pg_admin_user}",
        f"--dbname={settings.pg_database}",
        "--no-password",
    ]


async def _run(program: str, *arguments: str, settings: Settings) -> None:
    try:
        binary = find_binary(program, *BIN_DIRS)
    except FileNotFoundError as missing:
        raise CommandError(str(missing)) from missing
    environment = {**os.environ, "PGPASSWORD": settings.secret("pg_admin_password")}
    process = await asyncio.create_subprocess_exec(
        binary,
        *arguments,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=environment,
    )
    _, errors = await process.communicate()
    if process.returncode != 0:
        lines = errors.decode(errors="replace").strip().splitlines()
        reason = lines[0] if lines else f"exit status {process.returncode}"
        raise CommandError(f"{program} failed: {reason}", FAILURE)
