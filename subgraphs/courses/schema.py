"""GraphQL surface of the courses subgraph: thin resolvers over the courses and lessons services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, TypeAlias

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from common.auth import Principal
from common.errors import BadUserInput, Forbidden, NotFound
from common.graphql.access import scopes
from common.graphql.context import RequestContext
from common.graphql.ids import parse_id
from common.graphql.relay import Connection
from common.graphql.schema import ServiceSchema
from subgraphs.courses import access
from subgraphs.courses.access import CourseStatus as CourseStatusValue
from subgraphs.courses.content import TextFormat as TextFormatValue
from subgraphs.courses.downloads import download_url
from subgraphs.courses.lessons import LessonDraft, LessonsService
from subgraphs.courses.loaders import CoursesLoaders
from subgraphs.courses.models import (
    AttachmentRow,
    CategoryRow,
    CourseRow,
    LessonRow,
    LessonVersionRow,
    ModuleRow,
    ReviewRow,
)
from subgraphs.courses.service import (
    CourseChanges,
    CourseDraft,
    CourseFilter,
    CourseOrder,
    CourseOrderField,
    CoursesService,
)
from subgraphs.courses.service import Level as LevelValue


@dataclass(frozen=True, slots=True)
class CoursesServices:
    courses: CoursesService
    lessons: LessonsService


CoursesInfo: TypeAlias = Info[RequestContext[CoursesServices, CoursesLoaders], None]

CourseStatus = strawberry.enum(
    CourseStatusValue, name="CourseStatus", description="Where a course is in its life."
)
CourseLevel = strawberry.enum(LevelValue, name="CourseLevel")
TextFormat = strawberry.enum(
    TextFormatValue, name="TextFormat", description="How rich text is written."
)


@strawberry.enum
class CourseOrderBy(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    TITLE = "title"


@strawberry.enum
class OrderDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


def _principal(info: CoursesInfo) -> Principal | None:
    """The caller if signed in; a refused token is still an error, not an anonymous call."""
    context = info.context
    if context.auth_error is not None:
        raise context.auth_error
    return context.principal


@strawberry.federation.type(keys=["id"], description="A person using the platform.")
class User:
    id: strawberry.ID

    @strawberry.field(description="Courses this user owns or co-teaches that you may see.")
    async def courses_taught(self, info: CoursesInfo) -> list[Course]:
        principal = _principal(info)
        rows = await info.context.loaders.taught.load(parse_id(self.id))
        return [course_of(row) for row in rows if access.can_view(principal, row)]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)


@strawberry.type(description="A node of the category tree.")
class Category:
    id: strawberry.ID
    name: str
    slug: str
    row: strawberry.Private[CategoryRow]

    @strawberry.field
    async def parent(self, info: CoursesInfo) -> Category | None:
        if self.row.parent_id is None:
            return None
        row = await info.context.loaders.category.load(self.row.parent_id)
        return None if row is None else category_of(row)

    @strawberry.field
    async def children(self, info: CoursesInfo) -> list[Category]:
        return [category_of(row) for row in await info.context.loaders.children.load(self.row.id)]


def category_of(row: CategoryRow) -> Category:
    return Category(id=strawberry.ID(str(row.id)), name=row.name, slug=row.slug, row=row)


@strawberry.type(description="A step of a course's review.")
class CourseReview:
    action: str = strawberry.field(description="SUBMITTED, APPROVED, REJECTED or ARCHIVED.")
    comment: str | None
    actor: User
    created_at: datetime


def review_of(row: ReviewRow) -> CourseReview:
    return CourseReview(
        action=row.action,
        comment=row.comment,
        actor=User(id=strawberry.ID(str(row.actor_id))),
        created_at=row.created_at,
    )


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
        id=strawberry.ID(str(row.id)),
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
    author: User
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
        author=User(id=strawberry.ID(str(row.author_id))),
        restored_from=row.restored_from,
        created_at=row.created_at,
    )


async def _course_access(info: CoursesInfo, course_id: uuid.UUID) -> tuple[CourseRow, bool]:
    """The course and whether the caller may edit it."""
    course = await info.context.loaders.course.load(course_id)
    principal = _principal(info)
    course = access.visible(principal, course, course_id)
    return course, access.is_editor(principal, course)


async def _require_content_access(info: CoursesInfo, course_id: uuid.UUID) -> None:
    """Lesson content is for enrolled learners, the course's instructors and administrators."""
    course, editor = await _course_access(info, course_id)
    if editor:
        return
    if _principal(info) is None:
        info.context.require_principal()
    if not await info.context.loaders.enrolled.load(course.id):
        raise Forbidden("Enroll in the course to see its lessons' content.")


async def _require_editor(info: CoursesInfo, course_id: uuid.UUID) -> None:
    _, editor = await _course_access(info, course_id)
    if not editor:
        raise Forbidden("Only the course's instructors and administrators can see this.")


@strawberry.federation.type(
    keys=["id"], description="A lesson: its outline is public with the course; its content is not."
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

    @strawberry.field(description="The content as written (enrolled learners and instructors).")
    async def body(self, info: CoursesInfo) -> str | None:
        await _require_content_access(info, self.row.course_id)
        return self.row.body_source

    @strawberry.field(description="The content as safe HTML (enrolled learners and instructors).")
    async def body_html(self, info: CoursesInfo) -> str | None:
        await _require_content_access(info, self.row.course_id)
        return self.row.body_html

    @strawberry.field
    def body_format(self) -> TextFormat:  # type: ignore[valid-type]
        return TextFormatValue(self.row.body_format)

    @strawberry.field(description="Files (enrolled learners and instructors).")
    async def attachments(self, info: CoursesInfo) -> list[Attachment] | None:
        await _require_content_access(info, self.row.course_id)
        rows = await info.context.loaders.attachments.load(self.row.id)
        return [attachment_of(row) for row in rows]

    @strawberry.field(description="Every saved version, newest first (instructors).")
    async def versions(self, info: CoursesInfo) -> list[LessonVersion]:
        principal = info.context.require_principal()
        rows = await info.context.service.lessons.versions(principal, self.row.id)
        return [version_of(row) for row in rows]

    @strawberry.field(description="One saved version (instructors).")
    async def version_content(self, info: CoursesInfo, version: int) -> LessonVersion:
        principal = info.context.require_principal()
        return version_of(
            await info.context.service.lessons.version(principal, self.row.id, version)
        )

    @strawberry.field
    async def course(self, info: CoursesInfo) -> Course:
        course, _ = await _course_access(info, self.row.course_id)
        return course_of(course)

    @classmethod
    async def resolve_reference(cls, info: CoursesInfo, id: strawberry.ID) -> Lesson | None:
        row = await info.context.loaders.lesson.load(parse_id(id))
        if row is None:
            return None
        course = await info.context.loaders.course.load(row.course_id)
        if course is None or not access.can_view(_principal(info), course):
            return None
        return lesson_of(row)


def lesson_of(row: LessonRow) -> Lesson:
    return Lesson(
        id=strawberry.ID(str(row.id)),
        title=row.title,
        position=row.position,
        required=row.required,
        duration_minutes=row.duration_minutes,
        version=row.version,
        updated_at=row.updated_at,
        row=row,
    )


@strawberry.type(description="A part of a course: an ordered list of lessons.")
class Module:
    id: strawberry.ID
    title: str
    position: int
    row: strawberry.Private[ModuleRow]

    @strawberry.field
    async def lessons(self, info: CoursesInfo) -> list[Lesson]:
        return [lesson_of(row) for row in await info.context.loaders.lessons.load(self.row.id)]


def module_of(row: ModuleRow) -> Module:
    return Module(id=strawberry.ID(str(row.id)), title=row.title, position=row.position, row=row)


@strawberry.federation.type(keys=["id"], description="A course of the catalogue.")
class Course:
    id: strawberry.ID
    slug: str
    title: str
    description: str = strawberry.field(description="As written, in descriptionFormat.")
    description_format: TextFormat  # type: ignore[valid-type]
    description_html: str = strawberry.field(description="Safe HTML to display.")
    status: CourseStatus  # type: ignore[valid-type]
    tags: list[str]
    language: str
    level: CourseLevel  # type: ignore[valid-type]
    is_template: bool
    version: int = strawberry.field(description="Send it back with updates (optimistic locking).")
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    row: strawberry.Private[CourseRow]

    @strawberry.field
    def instructor(self) -> User:
        return User(id=strawberry.ID(str(self.row.instructor_id)))

    @strawberry.field
    def co_instructors(self) -> list[User]:
        return [User(id=strawberry.ID(str(item))) for item in self.row.co_instructor_ids]

    @strawberry.field
    async def category(self, info: CoursesInfo) -> Category | None:
        if self.row.category_id is None:
            return None
        row = await info.context.loaders.category.load(self.row.category_id)
        return None if row is None else category_of(row)

    @strawberry.field(description="The course's outline, in order.")
    async def modules(self, info: CoursesInfo) -> list[Module]:
        return [module_of(row) for row in await info.context.loaders.modules.load(self.row.id)]

    @strawberry.field(description="Review history (the course's instructors and administrators).")
    async def reviews(self, info: CoursesInfo) -> list[CourseReview]:
        principal = info.context.require_principal()
        rows = await info.context.service.courses.reviews(principal, self.row.id)
        return [review_of(row) for row in rows]

    @strawberry.field(description="Whether you may edit this course.")
    def viewer_can_edit(self, info: CoursesInfo) -> bool:
        return access.is_editor(info.context.principal, self.row)

    @classmethod
    async def resolve_reference(cls, info: CoursesInfo, id: strawberry.ID) -> Course | None:
        row = await info.context.loaders.course.load(parse_id(id))
        if row is None or not access.can_view(_principal(info), row):
            return None
        return course_of(row)


def course_of(row: CourseRow) -> Course:
    return Course(
        id=strawberry.ID(str(row.id)),
        slug=row.slug,
        title=row.title,
        description=row.description_source,
        description_format=TextFormatValue(row.description_format),
        description_html=row.description_html,
        status=CourseStatusValue(row.status),
        tags=list(row.tags),
        language=row.language,
        level=LevelValue(row.level),
        is_template=row.is_template,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        published_at=row.published_at,
        row=row,
    )


# Inputs and payloads


@strawberry.input
class CourseFilterInput:
    status: CourseStatus | None = None  # type: ignore[valid-type]
    category_id: strawberry.ID | None = strawberry.field(
        default=None, description="This category and every category under it."
    )
    tag: str | None = None
    instructor_id: strawberry.ID | None = None
    templates_only: bool = False


@strawberry.input
class CourseOrderInput:
    field: CourseOrderBy = CourseOrderBy.CREATED_AT
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input
class CreateCourseInput:
    title: str
    slug: str | None = strawberry.field(default=None, description="Made from the title if omitted.")
    description: str = ""
    description_format: TextFormat = TextFormatValue.MARKDOWN  # type: ignore[valid-type]
    category_id: strawberry.ID | None = None
    tags: list[str] = strawberry.field(default_factory=list)
    language: str = "en"
    level: CourseLevel = LevelValue.BEGINNER  # type: ignore[valid-type]
    co_instructor_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    is_template: bool = False


@strawberry.input
class UpdateCourseInput:
    id: strawberry.ID
    version: int = strawberry.field(description="The version you last read; stale is CONFLICT.")
    title: str | None = strawberry.UNSET
    slug: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    description_format: TextFormat | None = strawberry.UNSET  # type: ignore[valid-type]
    category_id: strawberry.ID | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    language: str | None = strawberry.UNSET
    level: CourseLevel | None = strawberry.UNSET  # type: ignore[valid-type]
    co_instructor_ids: list[strawberry.ID] | None = strawberry.UNSET
    is_template: bool | None = strawberry.UNSET


@strawberry.input
class CourseIdInput:
    id: strawberry.ID


@strawberry.input
class ReviewDecisionInput:
    id: strawberry.ID
    comment: str | None = None


@strawberry.input
class CloneCourseInput:
    id: strawberry.ID
    title: str | None = None


@strawberry.input
class CreateCourseFromTemplateInput:
    template_id: strawberry.ID
    title: str


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


@strawberry.input
class IdInput:
    id: strawberry.ID


@strawberry.input
class CreateCategoryInput:
    name: str
    slug: str | None = None
    parent_id: strawberry.ID | None = None


@strawberry.type
class CoursePayload:
    course: Course


@strawberry.type
class ModulePayload:
    module: Module


@strawberry.type
class LessonPayload:
    lesson: Lesson


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID


@strawberry.type
class AttachmentPayload:
    attachment: Attachment


@strawberry.type
class CategoryPayload:
    category: Category


def _id(value: strawberry.ID | None, field: str) -> uuid.UUID | None:
    return None if value is None else parse_id(value, field=field)


def _set(value: object, *, ids: dict[str, str] | None = None) -> dict[str, Any]:
    """The fields of an input the client set, enum members as values, ids parsed."""
    ids = ids or {}
    result: dict[str, Any] = {}
    for name, item in vars(value).items():
        if item is strawberry.UNSET or name in {"id", "version"}:
            continue
        if name in ids and item is not None:
            item = (
                [parse_id(one, field=ids[name]) for one in item]
                if isinstance(item, list)
                else parse_id(item, field=ids[name])
            )
        result[name] = item.value if isinstance(item, Enum) else item
    return result


@strawberry.type
class Query:
    @strawberry.field(description="A course by id or by slug (give exactly one).")
    async def course(
        self, info: CoursesInfo, id: strawberry.ID | None = None, slug: str | None = None
    ) -> Course:
        service = info.context.service.courses
        if (id is None) == (slug is None):
            raise BadUserInput("Give either id or slug.", field="id")
        if id is not None:
            return course_of(await service.get(_principal(info), parse_id(id)))
        assert slug is not None
        return course_of(await service.by_slug(_principal(info), slug))

    @strawberry.field(description="The catalogue: courses you may see, filtered and ordered.")
    async def courses(
        self,
        info: CoursesInfo,
        first: int | None = None,
        after: str | None = None,
        filter: CourseFilterInput | None = None,
        order_by: CourseOrderInput | None = None,
    ) -> Connection[Course]:
        order = order_by or CourseOrderInput()
        page = await info.context.service.courses.find(
            _principal(info),
            _filter(filter),
            CourseOrder(
                CourseOrderField(order.field.value), order.direction is OrderDirection.DESC
            ),
            first=first,
            after=after,
        )
        return Connection.from_page(page, course_of)

    @strawberry.field(
        description="Full-text search: title weighs most, then description, then lessons; "
        "prefixes match, and small typos in titles are forgiven."
    )
    async def search_courses(
        self,
        info: CoursesInfo,
        query: str,
        first: int | None = None,
        after: str | None = None,
        filter: CourseFilterInput | None = None,
    ) -> Connection[Course]:
        page = await info.context.service.courses.search(
            _principal(info), query, _filter(filter), first=first, after=after
        )
        return Connection.from_page(page, course_of)

    @strawberry.field(description="Top-level categories; each lists its children.")
    async def categories(
        self, info: CoursesInfo, parent_id: strawberry.ID | None = None
    ) -> list[Category]:
        rows = await info.context.service.courses.categories(_id(parent_id, "parentId"))
        return [category_of(row) for row in rows]

    @strawberry.field(description="A lesson by id (its content needs enrollment).")
    async def lesson(self, info: CoursesInfo, id: strawberry.ID) -> Lesson:
        row = await info.context.loaders.lesson.load(parse_id(id))
        if row is not None:
            course = await info.context.loaders.course.load(row.course_id)
            if course is not None and access.can_view(_principal(info), course):
                return lesson_of(row)
        raise NotFound(f"No lesson has id {id}.", field="id")


def _filter(value: CourseFilterInput | None) -> CourseFilter:
    if value is None:
        return CourseFilter()
    return CourseFilter(
        status=value.status,
        category_id=_id(value.category_id, "categoryId"),
        tag=value.tag,
        instructor_id=_id(value.instructor_id, "instructorId"),
        templates_only=value.templates_only,
    )


async def _read_upload(upload: Any, limit: int) -> tuple[str, bytes]:
    filename = str(getattr(upload, "filename", "") or "")
    try:
        data: bytes = await upload.read(limit + 1)
    finally:
        await upload.close()  # the spooled temporary file, now rather than at collection
    return filename, data


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="A new draft course (instructors and administrators).",
    )
    async def create_course(self, info: CoursesInfo, input: CreateCourseInput) -> CoursePayload:
        principal = info.context.require_principal()
        draft = CourseDraft(
            title=input.title,
            slug=input.slug,
            description=input.description,
            description_format=TextFormatValue(input.description_format),
            category_id=_id(input.category_id, "categoryId"),
            tags=input.tags,
            language=input.language,
            level=LevelValue(input.level),
            co_instructor_ids=[
                parse_id(item, field="coInstructorIds") for item in input.co_instructor_ids
            ],
            is_template=input.is_template,
        )
        row = await info.context.service.courses.create(principal, draft)
        return CoursePayload(course=course_of(row))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Change a course; omitted fields keep their value.",
    )
    async def update_course(self, info: CoursesInfo, input: UpdateCourseInput) -> CoursePayload:
        principal = info.context.require_principal()
        values = _set(
            input, ids={"category_id": "categoryId", "co_instructor_ids": "coInstructorIds"}
        )
        for required in (
            "title",
            "slug",
            "description",
            "tags",
            "language",
            "level",
            "is_template",
        ):
            if required in values and values[required] is None:
                raise BadUserInput(f"{required} cannot be null.", field=required)
        row = await info.context.service.courses.update(
            principal, parse_id(input.id), CourseChanges(input.version, values)
        )
        return CoursePayload(course=course_of(row))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Archive a course: read-only, out of the catalogue.",
    )
    async def archive_course(self, info: CoursesInfo, input: CourseIdInput) -> CoursePayload:
        row = await info.context.service.courses.archive(
            info.context.require_principal(), parse_id(input.id)
        )
        return CoursePayload(course=course_of(row))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Ask administrators to publish a draft.",
    )
    async def submit_course_for_review(
        self, info: CoursesInfo, input: CourseIdInput
    ) -> CoursePayload:
        row = await info.context.service.courses.submit_for_review(
            info.context.require_principal(), parse_id(input.id)
        )
        return CoursePayload(course=course_of(row))

    @strawberry.mutation(
        extensions=[scopes(["courses:approve"])],
        description="Publish a course in review (administrators).",
    )
    async def approve_course(self, info: CoursesInfo, input: ReviewDecisionInput) -> CoursePayload:
        row = await info.context.service.courses.approve(
            info.context.require_principal(), parse_id(input.id), input.comment
        )
        return CoursePayload(course=course_of(row))

    @strawberry.mutation(
        extensions=[scopes(["courses:approve"])],
        description="Send a course in review back to draft, saying why.",
    )
    async def reject_course(self, info: CoursesInfo, input: ReviewDecisionInput) -> CoursePayload:
        row = await info.context.service.courses.reject(
            info.context.require_principal(), parse_id(input.id), input.comment or ""
        )
        return CoursePayload(course=course_of(row))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="A deep copy of a course you can edit, as your new draft.",
    )
    async def clone_course(self, info: CoursesInfo, input: CloneCourseInput) -> CoursePayload:
        row = await info.context.service.courses.clone(
            info.context.require_principal(), parse_id(input.id), input.title
        )
        return CoursePayload(course=course_of(row))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="A new draft course copied from a template.",
    )
    async def create_course_from_template(
        self, info: CoursesInfo, input: CreateCourseFromTemplateInput
    ) -> CoursePayload:
        row = await info.context.service.courses.from_template(
            info.context.require_principal(),
            parse_id(input.template_id, field="templateId"),
            input.title,
        )
        return CoursePayload(course=course_of(row))

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
        values = _set(input)
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

    @strawberry.mutation(
        extensions=[scopes(["admin"])], description="A new category (administrators)."
    )
    async def create_category(
        self, info: CoursesInfo, input: CreateCategoryInput
    ) -> CategoryPayload:
        row = await info.context.service.courses.create_category(
            info.context.require_principal(),
            input.name,
            input.slug,
            _id(input.parent_id, "parentId"),
        )
        return CategoryPayload(category=category_of(row))


schema = ServiceSchema(query=Query, mutation=Mutation, types=[User, Course, Lesson])
