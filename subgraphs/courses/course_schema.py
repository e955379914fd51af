"""GraphQL surface of courses: the catalogue, search, review workflow and copies."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from common.errors import BadUserInput
from common.graphql.access import scopes
from common.graphql.cache_control.hints import (
    PER_USER,
    PRIVATE_FIELD,
    PUBLIC_FEW_MINUTES,
    CacheControl,
)
from common.graphql.costs import SEARCH
from common.graphql.ids import graphql_id, parse_id
from common.graphql.relay import PAGED, Connection
from subgraphs.courses import access
from subgraphs.courses.access import CourseStatus as CourseStatusValue
from subgraphs.courses.category_schema import Category, category_of
from subgraphs.courses.content import TextFormat as TextFormatValue
from subgraphs.courses.guards import catalogue_viewer, kept_only_if_open
from subgraphs.courses.input_values import fields_set, optional_id
from subgraphs.courses.loaders import CoursesInfo
from subgraphs.courses.models import CourseRow, ReviewRow
from subgraphs.courses.service import (
    CourseChanges,
    CourseDraft,
    CourseFilter,
    CourseOrder,
    CourseOrderField,
)
from subgraphs.courses.service import Level as LevelValue
from subgraphs.courses.service import SearchMode as SearchModeValue

if TYPE_CHECKING:
    from subgraphs.courses.content_schema import Module


TextFormat = strawberry.enum(
    TextFormatValue, name="TextFormat", description="How rich text is written."
)
CourseStatus = strawberry.enum(
    CourseStatusValue, name="CourseStatus", description="Where a course is in its life."
)


CourseLevel = strawberry.enum(LevelValue, name="CourseLevel")
SearchMode = strawberry.enum(
    SearchModeValue,
    name="SearchMode",
    description="How searchCourses ranks: FULL_TEXT by words (prefixes, title typos), "
    "SEMANTIC by meaning (sentence embeddings of title, description and lessons), HYBRID both "
    "fused by reciprocal rank. Where the embedding model is not installed, every mode ranks by "
    "full text.",
)
SEARCH_RESULTS = CacheControl(max_age=60)  # a search's answer: new matches show within a minute


@strawberry.enum
class CourseOrderBy(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    TITLE = "title"


@strawberry.enum
class OrderDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.federation.type(
    keys=["id"], description="A person using the platform.", directives=[PUBLIC_FEW_MINUTES]
)
class User:
    id: strawberry.ID

    @strawberry.field(description="Courses this user owns or co-teaches that you may see.")
    async def courses_taught(self, info: CoursesInfo) -> list[Course] | None:
        principal = info.context.caller()
        rows = await info.context.loaders.taught.load(parse_id(self.id))
        return [shown(info, row) for row in rows if access.can_view(principal, row)]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)


@strawberry.type(description="A step of a course's review.")
class CourseReview:
    action: str = strawberry.field(description="SUBMITTED, APPROVED, REJECTED or ARCHIVED.")
    comment: str | None
    actor: User | None
    created_at: datetime


def review_of(row: ReviewRow) -> CourseReview:
    return CourseReview(
        action=row.action,
        comment=row.comment,
        actor=User(id=graphql_id(row.actor_id)),
        created_at=row.created_at,
    )


@strawberry.federation.type(
    keys=["id"], description="A course of the catalogue.", directives=[PUBLIC_FEW_MINUTES]
)
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
    def instructor(self) -> User | None:
        return User(id=graphql_id(self.row.instructor_id))

    @strawberry.field
    def co_instructors(self) -> list[User] | None:
        return [User(id=graphql_id(item)) for item in self.row.co_instructor_ids]

    @strawberry.field
    async def category(self, info: CoursesInfo) -> Category | None:
        if self.row.category_id is None:
            return None
        row = await info.context.loaders.category.load(self.row.category_id)
        return None if row is None else category_of(row)

    @strawberry.field(description="The course's outline, in order.")
    async def modules(
        self, info: CoursesInfo
    ) -> list[Annotated[Module, strawberry.lazy("subgraphs.courses.content_schema")]]:
        from subgraphs.courses.content_schema import module_of

        return [module_of(row) for row in await info.context.loaders.modules.load(self.row.id)]

    @strawberry.field(
        description="Review history (the course's instructors and administrators).",
        directives=[PER_USER],
    )
    async def reviews(self, info: CoursesInfo) -> list[CourseReview]:
        principal = info.context.require_principal()
        rows = await info.context.service.courses.reviews(principal, self.row.id)
        return [review_of(row) for row in rows]

    @strawberry.field(description="Whether you may edit this course.", directives=[PRIVATE_FIELD])
    def viewer_can_edit(self, info: CoursesInfo) -> bool:
        return access.is_editor(info.context.caller(), self.row)

    @classmethod
    async def resolve_reference(cls, info: CoursesInfo, id: strawberry.ID) -> Course | None:
        row = await info.context.loaders.course.load(parse_id(id))
        if row is None or not access.can_view(info.context.caller(), row):
            return None
        return shown(info, row)


def shown(info: CoursesInfo, row: CourseRow) -> Course:
    """A course as a query answers it (a draft's answer is never kept)."""
    return course_of(kept_only_if_open(info, row))


def course_of(row: CourseRow) -> Course:
    return Course(
        id=graphql_id(row.id),
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
class IdInput:
    id: strawberry.ID


@strawberry.type
class CoursePayload:
    course: Course


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID


def _filter(value: CourseFilterInput | None) -> CourseFilter:
    if value is None:
        return CourseFilter()
    return CourseFilter(
        status=value.status,
        category_id=optional_id(value.category_id, "categoryId"),
        tag=value.tag,
        instructor_id=optional_id(value.instructor_id, "instructorId"),
        templates_only=value.templates_only,
    )


@strawberry.type
class CourseQueries:
    @strawberry.field(description="A course by id or by slug (give exactly one).")
    async def course(
        self, info: CoursesInfo, id: strawberry.ID | None = None, slug: str | None = None
    ) -> Course:
        service = info.context.service.courses
        if (id is None) == (slug is None):
            raise BadUserInput("Give either id or slug.", field="id")
        if id is not None:
            return shown(info, await service.get(info.context.caller(), parse_id(id)))
        assert slug is not None
        return shown(info, await service.by_slug(info.context.caller(), slug))

    @strawberry.field(
        description="The catalogue: courses you may see, filtered and ordered.",
        directives=[PAGED, PUBLIC_FEW_MINUTES],
    )
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
            catalogue_viewer(info),
            _filter(filter),
            CourseOrder(
                CourseOrderField(order.field.value), order.direction is OrderDirection.DESC
            ),
            first=first,
            after=after,
        )
        return Connection.from_page(page, lambda row: shown(info, row))

    @strawberry.field(
        description="Search: by words (title weighs most, then description, then lessons; "
        "prefixes match, and small typos in titles are forgiven), by meaning, or both "
        "(the default): see SearchMode.",
        directives=[PAGED, SEARCH, SEARCH_RESULTS],
    )
    async def search_courses(
        self,
        info: CoursesInfo,
        query: str,
        first: int | None = None,
        after: str | None = None,
        filter: CourseFilterInput | None = None,
        mode: SearchMode = SearchModeValue.HYBRID,  # type: ignore[valid-type]
    ) -> Connection[Course]:
        page = await info.context.service.courses.search(
            catalogue_viewer(info),
            query,
            _filter(filter),
            mode=SearchModeValue(mode),
            first=first,
            after=after,
        )
        return Connection.from_page(page, lambda row: shown(info, row))


@strawberry.type
class CourseMutations:
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
            category_id=optional_id(input.category_id, "categoryId"),
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
        values = fields_set(
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
