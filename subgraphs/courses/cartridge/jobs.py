"""Course imports as background jobs.

The mutation checks what is cheap to check (the caller may author courses; the upload is a
bounded zip whose manifest parses) and queues the package in a row; it never waits for the
import. Each courses subgraph process runs a loop that claims queued imports one at a time
(`FOR UPDATE SKIP LOCKED`, so replicas share the queue and none runs twice), reads the
cartridge in a thread, stores its files, then writes the whole course and the job's success
in ONE transaction: an import either leaves a complete draft or nothing. The package is
dropped once the job ends; the report stays. A job still RUNNING when its process died is
not resumed (it stays RUNNING; import again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import asdict

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import clock
from common.auth import Principal
from common.errors import BadUserInput, NotFound
from subgraphs.courses import access
from subgraphs.courses.cartridge.reader import open_cartridge, read_cartridge
from subgraphs.courses.cartridge.store import checked_files, save_outline
from subgraphs.courses.models import CourseImportRow
from subgraphs.courses.storage import Storage

log = logging.getLogger(__name__)

QUEUED, RUNNING, SUCCEEDED, FAILED = "QUEUED", "RUNNING", "SUCCEEDED", "FAILED"
POLL_SECONDS = 2.0
HAS_ERRORS = "The cartridge has errors (see its items); nothing was imported."


class CourseImports:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        storage: Storage,
        *,
        max_file_bytes: int,
    ) -> None:
        self.sessions = sessions
        self.storage = storage
        self.max_file_bytes = max_file_bytes
        self._wake = asyncio.Event()

    async def enqueue(self, principal: Principal, filename: str, data: bytes) -> CourseImportRow:
        access.require_author(principal)
        await asyncio.to_thread(open_cartridge, data)
        job = CourseImportRow(
            id=uuid.uuid4(),
            owner_id=principal.user_id,
            filename=filename[:255],
            status=QUEUED,
            progress=0.0,
            package=data,
            items=[],
        )
        async with self.sessions.begin() as session:
            session.add(job)
        self._wake.set()
        return job

    async def get(self, principal: Principal, import_id: uuid.UUID) -> CourseImportRow:
        """The caller's own import (any, for an administrator); NOT_FOUND otherwise."""
        async with self.sessions() as session:
            job = await session.get(CourseImportRow, import_id)
        if job is None or not (principal.is_admin or job.owner_id == principal.user_id):
            raise NotFound(f"No course import has id {import_id}.", field="id")
        return job

    async def run(self) -> None:
        """Until cancelled: run queued imports, then wait to be woken (or poll)."""
        while True:
            job = await self._claim()
            if job is not None:
                await self._run_one(job)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()

    async def _claim(self) -> CourseImportRow | None:
        async with self.sessions.begin() as session:
            job = await session.scalar(
                select(CourseImportRow)
                .where(CourseImportRow.status == QUEUED)
                .order_by(CourseImportRow.created_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if job is not None:
                job.status = RUNNING
                job.progress = 0.05
        return job

    async def _set(self, job_id: uuid.UUID, **values: object) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(CourseImportRow).where(CourseImportRow.id == job_id).values(**values)
            )

    async def _fail(self, job_id: uuid.UUID, error: str, items: list[dict[str, object]]) -> None:
        await self._set(
            job_id, status=FAILED, error=error, items=items, package=None, finished_at=clock.now()
        )

    async def _run_one(self, job: CourseImportRow) -> None:
        try:
            await self._import(job)
        except BadUserInput as problem:
            await self._fail(job.id, problem.message, [])
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("course import %s failed", job.id)
            await self._fail(job.id, "The import failed on our side; try again.", [])

    async def _import(self, job: CourseImportRow) -> None:
        result = await asyncio.to_thread(read_cartridge, job.package or b"", self.max_file_bytes)
        items = [asdict(item) for item in result.items]
        if result.course is None:
            await self._fail(job.id, HAS_ERRORS, items)
            return
        await self._set(job.id, progress=0.5, items=items)
        files = checked_files(result.course, self.max_file_bytes)
        keys: dict[str, str] = {}
        for index, file in enumerate(files, start=1):
            keys[file.sha256] = await self.storage.put(file)
            if index % 10 == 0:
                await self._set(job.id, progress=0.5 + 0.4 * index / len(files))
        async with self.sessions.begin() as session:
            course = await save_outline(session, job.owner_id, result.course, keys)
            await session.execute(
                update(CourseImportRow)
                .where(CourseImportRow.id == job.id)
                .values(
                    status=SUCCEEDED,
                    progress=1.0,
                    course_id=course.id,
                    package=None,
                    finished_at=clock.now(),
                )
            )
