"""GraphQL surface of a course's content: modules, lessons, their versions and attachments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.file_uploads import Upload

from common.errors import BadUserInput, NotFound
from common.graphql.access import scopes
from common.graphql.cache_control.hints import PER_USER, PUBLIC_FEW_MINUTES
from common.graphql.ids import graphql_id, parse_id
from subgraphs.courses import access
from subgraphs.courses.content import TextFormat as TextFormatValue
from subgraphs.courses.course_schema import (
    Course,
    CoursePayload,
    DeletePayload,
    IdInput,
    TextFormat,
    User,
    course_of,
)
from subgraphs.courses.downloads import download_url
from subgraphs.courses.guards import course_access, kept_only_if_open, require_content_access
from subgraphs.courses.input_values import fields_set
from subgraphs.courses.lessons import LessonDraft
from subgraphs.courses.loaders import CoursesInfo
from subgraphs.courses.models import AttachmentRow, LessonRow, LessonVersionRow, ModuleRow


@strawberry.type(description="A file attached to a lesson.")
class Attachment:
    id: strawberry.ID
    filename: str
    content_type: str
    size: int = strawberry.field(description="Bytes.")
    sha256: str
    created_at: datetime
    row: strawberry.Private[AttachmentRow]

    @strawberry.field(description="A signed link to the file, valid for an hour.")
    def download_url(self, info: CoursesInfo) -> str:
        settings = info.context.request.app.state.runtime.settings
        return download_url(settings, self.row.id, self.row.filename)


def attachment_of(row: AttachmentRow) -> Attachment:
    return Attachment(
        id=graphql_id(row.id),
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        created_at=row.created_at,
        row=row,
    )


@strawberry.type(description="A saved state of a lesson's content.")
class LessonVersion:
    version: int
    title: str
    body: str
    body_format: TextFormat  # type: ignore[valid-type]
    body_html: str
    author: User | None
    restored_from: int | None = strawberry.field(
        description="The version this one restored, if it was a restore."
    )
    created_at: datetime


def version_of(row: LessonVersionRow) -> LessonVersion:
    return LessonVersion(
        version=row.version,
        title=row.title,
        body=row.body_source,
        body_format=TextFormatValue(row.body_format),
        body_html=row.body_html,
        author=User(id=graphql_id(row.author_id)),
        restored_from=row.restored_from,
        created_at=row.created_at,
    )


@strawberry.federation.type(
    keys=["id"],
    description="A lesson: its outline is public with the course; its content is not.",
    directives=[PUBLIC_FEW_MINUTES],
)
class Lesson:
    id: strawberry.ID
    title: str
    position: int
    required: bool = strawberry.field(description="Counts toward the course's progress.")
    duration_minutes: int | None
    version: int = strawberry.field(description="Number of the current content version.")
    updated_at: datetime
    row: strawberry.Private[LessonRow]

    @strawberry.field(
        description="The content as written (enrolled learners and instructors).",
        directives=[PER_USER],
    )
    async def body(self, info: CoursesInfo) -> str | None:
        await require_content_access(info, self.row.course_id)
        return self.row.body_source

    @strawberry.field(
        description="The content as safe HTML (enrolled learners and instructors).",
        directives=[PER_USER],
    )
    async def body_html(self, info: CoursesInfo) -> str | None:
        await require_content_access(info, self.row.course_id)
        return self.row.body_html

    @strawberry.field
    def body_format(self) -> TextFormat:  # type: ignore[valid-type]
        return TextFormatValue(self.row.body_format)

    @strawberry.field(
        description="Files (enrolled learners and instructors).", directives=[PER_USER]
    )
    async def attachments(self, info: CoursesInfo) -> list[Attachment] | None:
        await require_content_access(info, self.row.course_id)
        rows = await info.context.loaders.attachments.load(self.row.id)
        return [attachment_of(row) for row in rows]

    @strawberry.field(
        description="Every saved version, newest first (instructors).", directives=[PER_USER]
    )
    async def versions(self, info: CoursesInfo) -> list[LessonVersion]:
        principal = info.context.require_principal()
        rows = await info.context.service.lessons.versions(principal, self.row.id)
        return [version_of(row) for row in rows]

    @strawberry.field(description="One saved version (instructors).", directives=[PER_USER])
    async def version_content(self, info: CoursesInfo, version: int) -> LessonVersion:
        principal = info.context.require_principal()
        return version_of(
            await info.context.service.lessons.version(principal, self.row.id, version)
        )

    @strawberry.field
    async def course(self, info: CoursesInfo) -> Course:
        course, _ = await course_access(info, self.row.course_id)
        return course_of(course)

    @classmethod
    async def resolve_reference(cls, info: CoursesInfo, id: strawberry.ID) -> Lesson | None:
        row = await info.context.loaders.lesson.load(parse_id(id))
        if row is None:
            return None
        course = await info.context.loaders.course.load(row.course_id)
        if course is None or not access.can_view(info.context.caller(), course):
            return None
        kept_only_if_open(info, course)
        return lesson_of(row)


def lesson_of(row: LessonRow) -> Lesson:
    return Lesson(
        id=graphql_id(row.id),
        title=row.title,
        position=row.position,
        required=row.required,
        duration_minutes=row.duration_minutes,
        version=row.version,
        updated_at=row.updated_at,
        row=row,
    )


@strawberry.type(
    description="A part of a course: an ordered list of lessons.", directives=[PUBLIC_FEW_MINUTES]
)
class Module:
    id: strawberry.ID
    title: str
    position: int
    row: strawberry.Private[ModuleRow]

    @strawberry.field
    async def lessons(self, info: CoursesInfo) -> list[Lesson]:
        return [lesson_of(row) for row in await info.context.loaders.lessons.load(self.row.id)]


def module_of(row: ModuleRow) -> Module:
    return Module(id=graphql_id(row.id), title=row.title, position=row.position, row=row)


@strawberry.input
class AddModuleInput:
    course_id: strawberry.ID
    title: str
    position: int | None = strawberry.field(default=None, description="0-based; end if omitted.")


@strawberry.input
class UpdateModuleInput:
    id: strawberry.ID
    title: str


@strawberry.input
class ReorderModulesInput:
    course_id: strawberry.ID
    module_ids: list[strawberry.ID] = strawberry.field(description="Every module, in new order.")


@strawberry.input
class AddLessonInput:
    module_id: strawberry.ID
    title: str
    body: str = ""
    body_format: TextFormat = TextFormatValue.MARKDOWN  # type: ignore[valid-type]
    required: bool = True
    duration_minutes: int | None = None
    position: int | None = None


@strawberry.input
class UpdateLessonInput:
    id: strawberry.ID
    title: str | None = strawberry.UNSET
    required: bool | None = strawberry.UNSET
    duration_minutes: int | None = strawberry.UNSET


@strawberry.input
class ReorderLessonsInput:
    module_id: strawberry.ID
    lesson_ids: list[strawberry.ID]


@strawberry.input
class UpdateLessonContentInput:
    lesson_id: strawberry.ID
    body: str
    body_format: TextFormat = TextFormatValue.MARKDOWN  # type: ignore[valid-type]
    expected_version: int | None = strawberry.field(
        default=None, description="The version you edited; a newer save makes this CONFLICT."
    )


@strawberry.input
class RestoreLessonVersionInput:
    lesson_id: strawberry.ID
    version: int


@strawberry.input
class AddAttachmentInput:
    lesson_id: strawberry.ID
    file: Upload


@strawberry.type
class ModulePayload:
    module: Module


@strawberry.type
class LessonPayload:
    lesson: Lesson


@strawberry.type
class AttachmentPayload:
    attachment: Attachment


async def _read_upload(upload: Any, limit: int) -> tuple[str, bytes]:
    filename = str(getattr(upload, "filename", "") or "")
    try:
        data: bytes = await upload.read(limit + 1)
    finally:
        await upload.close()  # the spooled temporary file, now rather than at collection
    return filename, data


@strawberry.type
class ContentQueries:
    @strawberry.field(description="A lesson by id (its content needs enrollment).")
    async def lesson(self, info: CoursesInfo, id: strawberry.ID) -> Lesson:
        row = await info.context.loaders.lesson.load(parse_id(id))
        if row is not None:
            course = await info.context.loaders.course.load(row.course_id)
            if course is not None and access.can_view(info.context.caller(), course):
                kept_only_if_open(info, course)
                return lesson_of(row)
        raise NotFound(f"No lesson has id {id}.", field="id")


@strawberry.type
class ContentMutations:
    @strawberry.mutation(extensions=[scopes(["courses:write"], ["admin"])])
    async def add_module(self, info: CoursesInfo, input: AddModuleInput) -> ModulePayload:
        row = await info.context.service.lessons.add_module(
            info.context.require_principal(),
            parse_id(input.course_id, field="courseId"),
            input.title,
            input.position,
        )
        return ModulePayload(module=module_of(row))

    @strawberry.mutation(extensions=[scopes(["courses:write"], ["admin"])])
    async def update_module(self, info: CoursesInfo, input: UpdateModuleInput) -> ModulePayload:
        row = await info.context.service.lessons.update_module(
            info.context.require_principal(), parse_id(input.id), input.title
        )
        return ModulePayload(module=module_of(row))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Delete a module and its lessons.",
    )
    async def delete_module(self, info: CoursesInfo, input: IdInput) -> DeletePayload:
        await info.context.service.lessons.delete_module(
            info.context.require_principal(), parse_id(input.id)
        )
        return DeletePayload(deleted_id=input.id)

    @strawberry.mutation(extensions=[scopes(["courses:write"], ["admin"])])
    async def reorder_modules(self, info: CoursesInfo, input: ReorderModulesInput) -> CoursePayload:
        row = await info.context.service.lessons.reorder_modules(
            info.context.require_principal(),
            parse_id(input.course_id, field="courseId"),
            [parse_id(item, field="moduleIds") for item in input.module_ids],
        )
        return CoursePayload(course=course_of(row))

    @strawberry.mutation(extensions=[scopes(["courses:write"], ["admin"])])
    async def add_lesson(self, info: CoursesInfo, input: AddLessonInput) -> LessonPayload:
        draft = LessonDraft(
            title=input.title,
            body=input.body,
            body_format=TextFormatValue(input.body_format),
            required=input.required,
            duration_minutes=input.duration_minutes,
        )
        row = await info.context.service.lessons.add_lesson(
            info.context.require_principal(),
            parse_id(input.module_id, field="moduleId"),
            draft,
            input.position,
        )
        return LessonPayload(lesson=lesson_of(row))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Change a lesson's title, required flag or duration.",
    )
    async def update_lesson(self, info: CoursesInfo, input: UpdateLessonInput) -> LessonPayload:
        values = fields_set(input)
        for required in ("title", "required"):
            if required in values and values[required] is None:
                raise BadUserInput(f"{required} cannot be null.", field=required)
        row = await info.context.service.lessons.update_lesson(
            info.context.require_principal(), parse_id(input.id), values
        )
        return LessonPayload(lesson=lesson_of(row))

    @strawberry.mutation(extensions=[scopes(["courses:write"], ["admin"])])
    async def delete_lesson(self, info: CoursesInfo, input: IdInput) -> DeletePayload:
        await info.context.service.lessons.delete_lesson(
            info.context.require_principal(), parse_id(input.id)
        )
        return DeletePayload(deleted_id=input.id)

    @strawberry.mutation(extensions=[scopes(["courses:write"], ["admin"])])
    async def reorder_lessons(self, info: CoursesInfo, input: ReorderLessonsInput) -> ModulePayload:
        row = await info.context.service.lessons.reorder_lessons(
            info.context.require_principal(),
            parse_id(input.module_id, field="moduleId"),
            [parse_id(item, field="lessonIds") for item in input.lesson_ids],
        )
        return ModulePayload(module=module_of(row))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Save a lesson's content as a new version.",
    )
    async def update_lesson_content(
        self, info: CoursesInfo, input: UpdateLessonContentInput
    ) -> LessonPayload:
        row = await info.context.service.lessons.update_content(
            info.context.require_principal(),
            parse_id(input.lesson_id, field="lessonId"),
            input.body,
            TextFormatValue(input.body_format),
            input.expected_version,
        )
        return LessonPayload(lesson=lesson_of(row))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Make an old version current again (saved as a new one).",
    )
    async def restore_lesson_version(
        self, info: CoursesInfo, input: RestoreLessonVersionInput
    ) -> LessonPayload:
        row = await info.context.service.lessons.restore_version(
            info.context.require_principal(),
            parse_id(input.lesson_id, field="lessonId"),
            input.version,
        )
        return LessonPayload(lesson=lesson_of(row))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Attach a file to a lesson (GraphQL multipart request; size and type limits).",
    )
    async def add_lesson_attachment(
        self, info: CoursesInfo, input: AddAttachmentInput
    ) -> AttachmentPayload:
        lessons = info.context.service.lessons
        filename, data = await _read_upload(input.file, lessons.max_attachment_bytes)
        principal = info.context.require_principal()
        row = await lessons.add_attachment(
            principal, parse_id(input.lesson_id, field="lessonId"), filename, data
        )
        return AttachmentPayload(attachment=attachment_of(row))

    @strawberry.mutation(extensions=[scopes(["courses:write"], ["admin"])])
    async def remove_lesson_attachment(self, info: CoursesInfo, input: IdInput) -> DeletePayload:
        await info.context.service.lessons.remove_attachment(
            info.context.require_principal(), parse_id(input.id)
        )
        return DeletePayload(deleted_id=input.id)
