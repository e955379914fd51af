"""Course imports as background jobs.

The mutation checks what is cheap to check (the caller may author courses; the upload is a
bounded zip whose manifest parses) and queues the package in a row; it never waits for the
import. Each courses subgraph process runs a loop that claims queued imports one at a time
(`FOR UPDATE SKIP LOCKED`, so replicas share the queue and none runs twice), reads the
cartridge in a thread (every item validated before anything is written), stores its files,
and writes the whole course in ONE transaction. Only then are its questions created, by the
assessments subgraph (which needs the course to exist, and checks the importer there);
if that fails, or any question has an error, the course is deleted again (compensation)
and the job FAILS: an import leaves a complete draft or nothing. The package is dropped
once the job ends; the report stays. The course's id is recorded in the job in the
course's own transaction, so a job whose process died mid-way (RUNNING for more than
STALE_AFTER) is failed by the next loop that looks, and its course deleted: it is not
resumed (import again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import asdict
from datetime import timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import clock
from common.auth import Principal
from common.cancellation import stop_if_cancelled
from common.errors import BadUserInput, NotFound
from common.graphql.peers import PeerUnavailable
from common.settings import Settings
from subgraphs.courses import access
from subgraphs.courses.cartridge.bank import import_bank
from subgraphs.courses.cartridge.lti_links import tools_here
from subgraphs.courses.cartridge.qti12 import merge_reports
from subgraphs.courses.cartridge.reader import ReadCartridge, open_cartridge, read_cartridge
from subgraphs.courses.cartridge.store import checked_files, save_outline
from subgraphs.courses.models import CourseImportRow, CourseRow
from subgraphs.courses.storage import Storage

log = logging.getLogger(__name__)

QUEUED, RUNNING, SUCCEEDED, FAILED = "QUEUED", "RUNNING", "SUCCEEDED", "FAILED"
POLL_SECONDS = 2.0
STALE_AFTER = timedelta(minutes=30)  # far beyond any import's run (16 MiB, bounded)
INTERRUPTED = "The import was interrupted (its process stopped); nothing was imported."
HAS_ERRORS = "The cartridge has errors (see its items); nothing was imported."
TOKEN_SECONDS = 600  # an unclaimed job's sign-in is forgotten after this
NO_TOKEN = (
    "Not imported: the importer's sign-in did not reach the process that ran the import; "
    "import the cartridge's questions and assessments with importQuestions."
)


class CourseImports:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        storage: Storage,
        *,
        max_file_bytes: int,
        http: httpx.AsyncClient,
        settings: Settings,
    ) -> None:
        self.sessions = sessions
        self.storage = storage
        self.max_file_bytes = max_file_bytes
        self.http = http
        self.settings = settings
        self._wake = asyncio.Event()
        # The importer's Authorization header, for the question bank's import as them: kept
        # in this process's memory only (never stored), until the job is claimed.
        self._sign_ins: dict[uuid.UUID, tuple[str, float]] = {}

    async def enqueue(
        self, principal: Principal, authorization: str | None, filename: str, data: bytes
    ) -> CourseImportRow:
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
        now = time.monotonic()
        for stale in [key for key, (_, at) in self._sign_ins.items() if now - at > TOKEN_SECONDS]:
            del self._sign_ins[stale]
        if authorization:
            self._sign_ins[job.id] = (authorization, now)
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
            await self._reap()
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
                job.started_at = clock.now()
        return job

    async def _reap(self) -> None:
        """Jobs whose process died: failed, and their course (if it was written) deleted."""
        async with self.sessions.begin() as session:
            stale = list(
                await session.scalars(
                    select(CourseImportRow)
                    .where(
                        CourseImportRow.status == RUNNING,
                        CourseImportRow.started_at < clock.now() - STALE_AFTER,
                    )
                    .with_for_update(skip_locked=True)
                )
            )
            for job in stale:
                if job.course_id is not None:
                    course = await session.get(CourseRow, job.course_id)
                    if course is not None:
                        await session.delete(course)
                job.status, job.error, job.package = FAILED, INTERRUPTED, None
                job.course_id, job.finished_at = None, clock.now()

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
        sign_in = self._sign_ins.pop(job.id, None)
        try:
            await self._import(job, None if sign_in is None else sign_in[0])
        except BadUserInput as problem:
            await self._fail(job.id, problem.message, [])
        except asyncio.CancelledError:
            raise
        except Exception:
            stop_if_cancelled()
            log.exception("course import %s failed", job.id)
            async with self.sessions() as session:
                course_id = await session.scalar(
                    select(CourseImportRow.course_id).where(CourseImportRow.id == job.id)
                )
            if course_id is not None:  # written before the failure: taken out again
                await self._remove(course_id)
            await self._fail(job.id, "The import failed on our side; try again.", [])

    async def _import(self, job: CourseImportRow, authorization: str | None) -> None:
        async with self.sessions() as session:
            tools = await tools_here(session)
        result = await asyncio.to_thread(
            read_cartridge, job.package or b"", self.max_file_bytes, tools
        )
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
            await session.execute(  # with the course: a crash from here on can undo it
                update(CourseImportRow)
                .where(CourseImportRow.id == job.id)
                .values(course_id=course.id, progress=0.9)
            )
        try:
            await self._import_bank(course.id, result, authorization)
        except (BadUserInput, PeerUnavailable) as problem:
            await self._remove(course.id)  # the course's rows went in first: take them out
            await self._fail(job.id, f"{problem.message} Nothing was imported.", _dicts(result))
            return
        except BaseException:
            await self._remove(course.id)
            raise
        if any(report.errors for report in [*result.bank_reports, *result.cc.reports]):
            await self._remove(course.id)
            for report in result.items:
                report.imported = False
            await self._fail(job.id, HAS_ERRORS, _dicts(result))
            return
        await self._set(
            job.id,
            status=SUCCEEDED,
            progress=1.0,
            course_id=course.id,
            items=_dicts(result),
            package=None,
            finished_at=clock.now(),
        )

    async def _import_bank(
        self, course_id: uuid.UUID, result: ReadCartridge, authorization: str | None
    ) -> None:
        """The questions, into the new course's bank, as the importer: the assessments
        subgraph checks them there, all or nothing, after everything else was validated and
        written; its report replaces ours item by item."""
        if not result.bank and not result.cc.files:
            return
        if authorization is None:
            for report in [*result.bank_reports, *result.cc.reports]:
                report.warnings.append(NO_TOKEN)
            return
        answer, resources = await import_bank(
            self.http, self.settings, authorization, course_id, result.bank, result.cc.files
        )
        result.items.extend(merge_reports(result.cc.reports, resources))
        for report, theirs in zip(result.bank_reports, answer, strict=False):
            report.title = str(theirs.get("title") or report.title)
            report.imported = bool(theirs.get("imported"))
            report.warnings.extend(str(text) for text in theirs.get("warnings") or [])
            report.errors.extend(str(text) for text in theirs.get("errors") or [])

    async def _remove(self, course_id: uuid.UUID) -> None:
        """Compensation: the imported course's rows, all of them (its children cascade)."""
        async with self.sessions.begin() as session:
            course = await session.get(CourseRow, course_id)
            if course is not None:
                await session.delete(course)


def _dicts(result: ReadCartridge) -> list[dict[str, object]]:
    return [asdict(item) for item in result.items]
