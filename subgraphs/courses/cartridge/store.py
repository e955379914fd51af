"""A course's rows to an outline (export) and an outline to a new draft's rows (import).

An import writes every row of the course in the caller's transaction, so a failure leaves
no course behind; its files are stored first (content-addressed: a file of a failed import
is an unreferenced blob, never a half course)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from common import clock
from subgraphs.courses import validation
from subgraphs.courses.access import CourseStatus
from subgraphs.courses.cartridge.lti_links import links_by_module, save_links
from subgraphs.courses.cartridge.outline import CourseOut, FileOut, LessonOut, ModuleOut
from subgraphs.courses.content import TextFormat, render
from subgraphs.courses.lessons import version_of
from subgraphs.courses.models import AttachmentRow, CourseRow, LessonRow, ModuleRow
from subgraphs.courses.search import refresh_search
from subgraphs.courses.service import free_slug
from subgraphs.courses.storage import CheckedFile, Storage, check_upload


class MissingFile(Exception):
    """An attachment's bytes are not in storage any more."""


async def load_outline(session: AsyncSession, course: CourseRow, storage: Storage) -> CourseOut:
    modules = list(
        await session.scalars(
            select(ModuleRow).where(ModuleRow.course_id == course.id).order_by(ModuleRow.position)
        )
    )
    lessons = list(
        await session.scalars(
            select(LessonRow).where(LessonRow.course_id == course.id).order_by(LessonRow.position)
        )
    )
    attachments = list(
        await session.scalars(
            select(AttachmentRow)
            .where(AttachmentRow.lesson_id.in_([lesson.id for lesson in lessons]))
            .order_by(AttachmentRow.created_at, AttachmentRow.id)
        )
    )
    files: dict[uuid.UUID, list[FileOut]] = {}
    for attachment in attachments:
        data = await storage.get(attachment.storage_key)
        if data is None:
            raise MissingFile(attachment.storage_key)
        files.setdefault(attachment.lesson_id, []).append(FileOut(attachment.filename, data))
    links = await links_by_module(session, course.id)
    return CourseOut(
        title=course.title,
        description=course.description_source,
        description_format=TextFormat(course.description_format),
        language=course.language,
        level=course.level,
        tags=tuple(course.tags),
        modules=tuple(
            ModuleOut(
                module.title,
                tuple(
                    _lesson_out(lesson, files.get(lesson.id, []))
                    for lesson in lessons
                    if lesson.module_id == module.id
                ),
                links.get(module.id, ()),
            )
            for module in modules
        ),
    )


def _lesson_out(lesson: LessonRow, files: list[FileOut]) -> LessonOut:
    return LessonOut(
        title=lesson.title,
        body=lesson.body_source,
        body_format=TextFormat(lesson.body_format),
        body_html=lesson.body_html,
        required=lesson.required,
        duration_minutes=lesson.duration_minutes,
        files=tuple(files),
    )


def checked_files(outline: CourseOut, max_bytes: int) -> list[CheckedFile]:
    """Every file of the outline, checked as an upload would be (the reader already did)."""
    return [
        check_upload(file.filename, file.data, max_bytes=max_bytes)
        for module in outline.modules
        for lesson in module.lessons
        for file in lesson.files
    ]


async def save_outline(
    session: AsyncSession, owner: uuid.UUID, outline: CourseOut, keys: Mapping[str, str]
) -> CourseRow:
    """The outline as a new draft owned by `owner`; `keys` maps each file's SHA-256 to its
    storage key."""
    course = CourseRow(
        id=uuid.uuid4(),
        slug=await free_slug(session, validation.slugify(outline.title)),
        title=validation.title(outline.title),
        description_source=outline.description,
        description_format=outline.description_format.value,
        description_html=render(
            outline.description, outline.description_format, field="description"
        ),
        status=CourseStatus.DRAFT.value,
        tags=list(outline.tags),
        instructor_id=owner,
        co_instructor_ids=[],
        language=outline.language,
        level=outline.level,
        is_template=False,
        version=1,
    )
    session.add(course)
    await session.flush()
    for position, module in enumerate(outline.modules):
        module_row = ModuleRow(
            id=uuid.uuid4(), course_id=course.id, title=module.title, position=position
        )
        session.add(module_row)
        await session.flush()  # no relationships: the lessons' foreign key needs it first
        for index, lesson in enumerate(module.lessons):
            await _save_lesson(session, owner, module_row, index, lesson, keys)
        save_links(session, owner, module_row, module.links)
    await session.flush()
    await refresh_search(session, course.id)
    return course


async def _save_lesson(
    session: AsyncSession,
    owner: uuid.UUID,
    module: ModuleRow,
    position: int,
    lesson: LessonOut,
    keys: Mapping[str, str],
) -> None:
    row = LessonRow(
        id=uuid.uuid4(),
        module_id=module.id,
        course_id=module.course_id,
        title=lesson.title,
        position=position,
        required=lesson.required,
        duration_minutes=lesson.duration_minutes,
        version=1,
        body_source=lesson.body,
        body_format=lesson.body_format.value,
        body_html=lesson.body_html,
    )
    session.add(row)
    await session.flush()
    session.add(version_of(row, owner))
    uploaded = clock.now()
    for index, file in enumerate(lesson.files):
        checked = check_upload(file.filename, file.data, max_bytes=len(file.data))
        digest = hashlib.sha256(file.data).hexdigest()
        session.add(
            AttachmentRow(
                id=uuid.uuid4(),
                lesson_id=row.id,
                filename=checked.filename,
                content_type=checked.content_type,
                size=len(file.data),
                sha256=digest,
                storage_key=keys[digest],
                uploaded_by=owner,
                # files list in upload order: one transaction's now() would tie them
                created_at=uploaded + timedelta(microseconds=index),
            )
        )
