"""Use cases of a course's structure: modules, lessons, lesson content with versions, files.

Every change is made by the course's instructors or an administrator, in one transaction,
and keeps positions dense (0, 1, 2…) and the course's search index current.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import clock
from common.auth import Principal
from common.errors import BadUserInput, Conflict, NotFound
from subgraphs.courses import access, validation
from subgraphs.courses.changes import lesson_changed, module_changed
from subgraphs.courses.content import TextFormat, render
from subgraphs.courses.models import (
    AttachmentRow,
    CourseRow,
    LessonRow,
    LessonVersionRow,
    ModuleRow,
)
from subgraphs.courses.search import refresh_search
from subgraphs.courses.storage import Storage, check_upload

MAX_MODULES = 200
MAX_LESSONS_PER_MODULE = 200


@dataclass(frozen=True, slots=True)
class LessonDraft:
    title: str
    body: str = ""
    body_format: TextFormat = TextFormat.MARKDOWN
    required: bool = True
    duration_minutes: int | None = None


class LessonsService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        storage: Storage,
        *,
        max_attachment_bytes: int,
    ) -> None:
        self.sessions = sessions
        self.storage = storage
        self.max_attachment_bytes = max_attachment_bytes

    # Modules and lessons

    async def add_module(
        self, principal: Principal, course_id: uuid.UUID, title: str, position: int | None
    ) -> ModuleRow:
        async with self.sessions.begin() as session:
            course = await access.editable_course(session, principal, course_id, lock=True)
            modules = list(
                await session.scalars(
                    select(ModuleRow)
                    .where(ModuleRow.course_id == course_id)
                    .order_by(ModuleRow.position)
                )
            )
            if len(modules) >= MAX_MODULES:
                raise BadUserInput(f"A course can have at most {MAX_MODULES} modules.")
            module = ModuleRow(
                id=uuid.uuid4(), course_id=course_id, title=validation.title(title), position=0
            )
            session.add(module)
            _insert_at(modules, module, position)
            access.touch(course)
            await session.flush()
            await module_changed(session, module.id, course_id, "created")
        return module

    async def update_module(
        self, principal: Principal, module_id: uuid.UUID, title: str
    ) -> ModuleRow:
        async with self.sessions.begin() as session:
            module = await access.editable_module(session, principal, module_id)
            module.title = validation.title(title)
            await module_changed(session, module.id, module.course_id, "updated")
        return module

    async def delete_module(self, principal: Principal, module_id: uuid.UUID) -> uuid.UUID:
        async with self.sessions.begin() as session:
            module = await access.editable_module(session, principal, module_id)
            course_id = module.course_id
            await session.delete(module)
            await session.flush()
            remaining = await session.scalars(
                select(ModuleRow)
                .where(ModuleRow.course_id == course_id)
                .order_by(ModuleRow.position)
            )
            _renumber(list(remaining))
            await refresh_search(session, course_id)
            await module_changed(session, module_id, course_id, "deleted")
        return course_id

    async def reorder_modules(
        self, principal: Principal, course_id: uuid.UUID, module_ids: Sequence[uuid.UUID]
    ) -> CourseRow:
        async with self.sessions.begin() as session:
            course = await access.editable_course(session, principal, course_id, lock=True)
            modules = {
                row.id: row
                for row in await session.scalars(
                    select(ModuleRow).where(ModuleRow.course_id == course_id)
                )
            }
            validation.order(module_ids, list(modules), field="moduleIds")
            _renumber([modules[item] for item in module_ids])
            access.touch(course)
            for module_id in module_ids:
                await module_changed(session, module_id, course_id, "reordered")
        return course

    async def add_lesson(
        self, principal: Principal, module_id: uuid.UUID, draft: LessonDraft, position: int | None
    ) -> LessonRow:
        body_html = render(draft.body, draft.body_format, field="body")
        _check_duration(draft.duration_minutes)
        async with self.sessions.begin() as session:
            module = await access.editable_module(session, principal, module_id)
            siblings = list(
                await session.scalars(
                    select(LessonRow)
                    .where(LessonRow.module_id == module_id)
                    .order_by(LessonRow.position)
                )
            )
            if len(siblings) >= MAX_LESSONS_PER_MODULE:
                raise BadUserInput(f"A module can have at most {MAX_LESSONS_PER_MODULE} lessons.")
            lesson = LessonRow(
                id=uuid.uuid4(),
                module_id=module.id,
                course_id=module.course_id,
                title=validation.title(draft.title),
                position=0,
                required=draft.required,
                duration_minutes=draft.duration_minutes,
                version=1,
                body_source=draft.body,
                body_format=draft.body_format.value,
                body_html=body_html,
            )
            session.add(lesson)
            _insert_at(siblings, lesson, position)
            await session.flush()
            session.add(version_of(lesson, principal.user_id))
            await refresh_search(session, module.course_id)
            await lesson_changed(session, lesson.id, lesson.course_id, "created")
        return lesson

    async def update_lesson(
        self, principal: Principal, lesson_id: uuid.UUID, values: dict[str, Any]
    ) -> LessonRow:
        async with self.sessions.begin() as session:
            lesson = await access.editable_lesson(session, principal, lesson_id, lock=True)
            if "title" in values:
                lesson.title = validation.title(values["title"])
            if "required" in values:
                lesson.required = bool(values["required"])
            if "duration_minutes" in values:
                _check_duration(values["duration_minutes"])
                lesson.duration_minutes = values["duration_minutes"]
            lesson.updated_at = clock.now()
            await refresh_search(session, lesson.course_id)
            await lesson_changed(session, lesson.id, lesson.course_id, "updated")
        return lesson

    async def delete_lesson(self, principal: Principal, lesson_id: uuid.UUID) -> LessonRow:
        async with self.sessions.begin() as session:
            lesson = await access.editable_lesson(session, principal, lesson_id, lock=True)
            await session.delete(lesson)
            await session.flush()
            remaining = await session.scalars(
                select(LessonRow)
                .where(LessonRow.module_id == lesson.module_id)
                .order_by(LessonRow.position)
            )
            _renumber(list(remaining))
            await refresh_search(session, lesson.course_id)
            await lesson_changed(session, lesson.id, lesson.course_id, "deleted")
        return lesson

    async def reorder_lessons(
        self, principal: Principal, module_id: uuid.UUID, lesson_ids: Sequence[uuid.UUID]
    ) -> ModuleRow:
        async with self.sessions.begin() as session:
            module = await access.editable_module(session, principal, module_id)
            lessons = {
                row.id: row
                for row in await session.scalars(
                    select(LessonRow).where(LessonRow.module_id == module_id)
                )
            }
            validation.order(lesson_ids, list(lessons), field="lessonIds")
            _renumber([lessons[item] for item in lesson_ids])
            for lesson_id in lesson_ids:
                await lesson_changed(session, lesson_id, module.course_id, "reordered")
        return module

    # Lesson content and its versions

    async def update_content(
        self,
        principal: Principal,
        lesson_id: uuid.UUID,
        body: str,
        body_format: TextFormat,
        expected_version: int | None,
    ) -> LessonRow:
        body_html = render(body, body_format, field="body")
        async with self.sessions.begin() as session:
            lesson = await access.editable_lesson(session, principal, lesson_id, lock=True)
            if expected_version is not None and lesson.version != expected_version:
                raise Conflict(
                    f"The lesson was saved since version {expected_version} (it is now version "
                    f"{lesson.version}); reload it and apply your change again.",
                    field="version",
                )
            self._save_content(session, principal, lesson, body, body_format.value, body_html)
            await refresh_search(session, lesson.course_id)
            await lesson_changed(session, lesson.id, lesson.course_id, "content")
        return lesson

    async def restore_version(
        self, principal: Principal, lesson_id: uuid.UUID, version: int
    ) -> LessonRow:
        """Restoring saves the old content as a new version: history is never rewritten."""
        async with self.sessions.begin() as session:
            lesson = await access.editable_lesson(session, principal, lesson_id, lock=True)
            old = await session.scalar(
                select(LessonVersionRow).where(
                    LessonVersionRow.lesson_id == lesson_id, LessonVersionRow.version == version
                )
            )
            if old is None:
                raise NotFound(f"The lesson has no version {version}.", field="version")
            lesson.title = old.title
            self._save_content(
                session,
                principal,
                lesson,
                old.body_source,
                old.body_format,
                old.body_html,
                restored_from=version,
            )
            await refresh_search(session, lesson.course_id)
            # the title comes back too: the outline changed
            await lesson_changed(session, lesson.id, lesson.course_id, "updated")
        return lesson

    def _save_content(
        self,
        session: AsyncSession,
        principal: Principal,
        lesson: LessonRow,
        source: str,
        body_format: str,
        body_html: str,
        *,
        restored_from: int | None = None,
    ) -> None:
        lesson.version += 1
        lesson.body_source = source
        lesson.body_format = body_format
        lesson.body_html = body_html
        lesson.updated_at = clock.now()
        session.add(version_of(lesson, principal.user_id, restored_from))

    async def versions(self, principal: Principal, lesson_id: uuid.UUID) -> list[LessonVersionRow]:
        async with self.sessions() as session:
            await access.editable_lesson(session, principal, lesson_id)
            rows = await session.scalars(
                select(LessonVersionRow)
                .where(LessonVersionRow.lesson_id == lesson_id)
                .order_by(LessonVersionRow.version.desc())
            )
            return list(rows)

    async def version(
        self, principal: Principal, lesson_id: uuid.UUID, version: int
    ) -> LessonVersionRow:
        async with self.sessions() as session:
            await access.editable_lesson(session, principal, lesson_id)
            row = await session.scalar(
                select(LessonVersionRow).where(
                    LessonVersionRow.lesson_id == lesson_id, LessonVersionRow.version == version
                )
            )
        if row is None:
            raise NotFound(f"The lesson has no version {version}.", field="version")
        return row

    # Attachments

    async def add_attachment(
        self, principal: Principal, lesson_id: uuid.UUID, filename: str, data: bytes
    ) -> AttachmentRow:
        checked = check_upload(filename, data, max_bytes=self.max_attachment_bytes)
        async with self.sessions() as session:
            await access.editable_lesson(session, principal, lesson_id)
        key = await self.storage.put(checked)
        async with self.sessions.begin() as session:
            await access.editable_lesson(session, principal, lesson_id, lock=True)
            attachment = AttachmentRow(
                id=uuid.uuid4(),
                lesson_id=lesson_id,
                filename=checked.filename,
                content_type=checked.content_type,
                size=len(checked.data),
                sha256=checked.sha256,
                storage_key=key,
                uploaded_by=principal.user_id,
            )
            session.add(attachment)
        return attachment

    async def remove_attachment(self, principal: Principal, attachment_id: uuid.UUID) -> uuid.UUID:
        async with self.sessions.begin() as session:
            attachment = await session.get(AttachmentRow, attachment_id)
            if attachment is None:
                raise NotFound(f"No attachment has id {attachment_id}.", field="attachmentId")
            await access.editable_lesson(session, principal, attachment.lesson_id, lock=True)
            await session.delete(attachment)
        return attachment_id

    async def attachment(self, attachment_id: uuid.UUID) -> AttachmentRow | None:
        async with self.sessions() as session:
            return await session.get(AttachmentRow, attachment_id)


def version_of(
    lesson: LessonRow, author: uuid.UUID, restored_from: int | None = None
) -> LessonVersionRow:
    return LessonVersionRow(
        id=uuid.uuid4(),
        lesson_id=lesson.id,
        version=lesson.version,
        title=lesson.title,
        body_source=lesson.body_source,
        body_format=lesson.body_format,
        body_html=lesson.body_html,
        author_id=author,
        restored_from=restored_from,
    )


def _check_duration(minutes: int | None) -> None:
    if minutes is not None and not 0 < minutes <= 10_000:
        raise BadUserInput("durationMinutes must be between 1 and 10000.", field="durationMinutes")


def _insert_at(items: list[Any], item: Any, position: int | None) -> None:
    """Insert at a 0-based position (the end when omitted) and renumber everything."""
    if position is not None and not 0 <= position <= len(items):
        raise BadUserInput(f"position must be between 0 and {len(items)}.", field="position")
    items.insert(len(items) if position is None else position, item)
    _renumber(items)


def _renumber(items: Sequence[Any]) -> None:
    for index, item in enumerate(items):
        item.position = index
