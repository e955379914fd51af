"""Use cases of the courses domain: each validates, authorizes and runs in one transaction."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, literal_column, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import clock
from common.ai import embeddings
from common.ai.embeddings import Vectors
from common.auth import Principal
from common.db.batches import rows_by_id, rows_grouped
from common.db.pagination import (
    Page,
    fetch_listed_page,
    fetch_ordered_page,
    fetch_ranked_page,
)
from common.errors import BadUserInput, Conflict, Forbidden, NotFound
from common.events.envelope import Event
from common.events.outbox import emit
from common.validation import text
from subgraphs.courses import access, validation
from subgraphs.courses.access import CourseStatus
from subgraphs.courses.changes import announce
from subgraphs.courses.content import TextFormat, render
from subgraphs.courses.lessons import version_of
from subgraphs.courses.models import (
    EVENTS,
    AttachmentRow,
    CategoryRow,
    CourseEmbeddingRow,
    CourseRow,
    LessonRow,
    ModuleRow,
    ReviewRow,
)
from subgraphs.courses.ranking import by_similarity, fused
from subgraphs.courses.search import CATEGORY_SUBTREE, refresh_search, search_terms

SEARCH_SIMILARITY = 0.4
# Semantic search scores at most this many visible courses (the most recently embedded):
# one (n x 384) float32 product per query, 7.5 MB read for 5000.
SEMANTIC_CANDIDATES = 5000
FUSION_DEPTH = 200  # of each ranking fused by HYBRID


class SearchMode(StrEnum):
    FULL_TEXT = "FULL_TEXT"
    SEMANTIC = "SEMANTIC"
    HYBRID = "HYBRID"


class Level(StrEnum):
    BEGINNER = "BEGINNER"
    INTERMEDIATE = "INTERMEDIATE"
    ADVANCED = "ADVANCED"


class CourseOrderField(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    TITLE = "title"


@dataclass(frozen=True, slots=True)
class CourseFilter:
    status: CourseStatus | None = None
    category_id: uuid.UUID | None = None
    tag: str | None = None
    instructor_id: uuid.UUID | None = None
    templates_only: bool = False


@dataclass(frozen=True, slots=True)
class CourseOrder:
    field: CourseOrderField = CourseOrderField.CREATED_AT
    descending: bool = False


@dataclass(frozen=True, slots=True)
class CourseDraft:
    title: str
    slug: str | None = None
    description: str = ""
    description_format: TextFormat = TextFormat.MARKDOWN
    category_id: uuid.UUID | None = None
    tags: Sequence[str] = ()
    language: str = "en"
    level: Level = Level.BEGINNER
    co_instructor_ids: Sequence[uuid.UUID] = ()
    is_template: bool = False


@dataclass(frozen=True, slots=True)
class CourseChanges:
    """Fields a client asked to set; a field not named keeps its value."""

    version: int
    values: dict[str, Any] = field(default_factory=dict)


def _full_text_ranked(visible: Select[CourseRow], phrase: str, terms: str) -> Select[CourseRow]:
    tsquery = func.to_tsquery(literal_column("'english'"), terms)
    similarity = func.word_similarity(phrase, CourseRow.title)
    rank = func.ts_rank(CourseRow.search, tsquery) + 0.5 * similarity
    return visible.where(
        or_(CourseRow.search.op("@@")(tsquery), similarity >= SEARCH_SIMILARITY)
    ).order_by(rank.desc(), CourseRow.id)


async def _semantic_ranked(
    session: AsyncSession, visible: Select[CourseRow], query_vector: Vectors
) -> list[uuid.UUID]:
    rows = (
        await session.execute(
            select(CourseEmbeddingRow.course_id, CourseEmbeddingRow.vector)
            .where(
                CourseEmbeddingRow.course_id.in_(visible.with_only_columns(CourseRow.id)),
                CourseEmbeddingRow.vector.is_not(None),
            )
            .order_by(CourseEmbeddingRow.embedded_at.desc())
            .limit(SEMANTIC_CANDIDATES)
        )
    ).all()
    vectors = embeddings.from_bytes(b"".join(vector or b"" for _, vector in rows))
    return by_similarity(query_vector, [course_id for course_id, _ in rows], vectors)


class CoursesService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        self.sessions = sessions

    # Reading courses

    async def get(self, principal: Principal | None, course_id: uuid.UUID) -> CourseRow:
        async with self.sessions() as session:
            course = await session.get(CourseRow, course_id)
        return access.visible(principal, course, course_id)

    async def by_slug(self, principal: Principal | None, slug: str) -> CourseRow:
        async with self.sessions() as session:
            course = await session.scalar(select(CourseRow).where(CourseRow.slug == slug))
        if course is None or not access.can_view(principal, course):
            raise NotFound(f"No course has slug {slug!r}.", field="slug")
        return course

    async def find(
        self,
        principal: Principal | None,
        criteria: CourseFilter,
        order: CourseOrder,
        *,
        first: int | None,
        after: str | None,
    ) -> Page[CourseRow]:
        async with self.sessions() as session:
            query = await self._filtered(session, principal, criteria)
            key = getattr(CourseRow, order.field.value)
            return await fetch_ordered_page(
                session,
                query,
                key=key,
                key_name=order.field.value,
                row_id=CourseRow.id,
                descending=order.descending,
                first=first,
                after=after,
            )

    async def _filtered(
        self, session: AsyncSession, principal: Principal | None, criteria: CourseFilter
    ) -> Select[CourseRow]:
        query = select(CourseRow).where(access.visibility_clause(principal))
        if criteria.status is not None:
            query = query.where(CourseRow.status == criteria.status.value)
        else:  # the catalogue leaves archived courses out unless they are asked for
            query = query.where(CourseRow.status != CourseStatus.ARCHIVED.value)
        if criteria.category_id is not None:
            subtree = list(await session.scalars(CATEGORY_SUBTREE, {"root": criteria.category_id}))
            query = query.where(CourseRow.category_id.in_(subtree))
        if criteria.tag:
            query = query.where(CourseRow.tags.contains(validation.tags([criteria.tag])))
        if criteria.instructor_id is not None:
            query = query.where(
                (CourseRow.instructor_id == criteria.instructor_id)
                | CourseRow.co_instructor_ids.contains([criteria.instructor_id])
            )
        if criteria.templates_only:
            query = query.where(CourseRow.is_template.is_(True))
        return query

    async def search(
        self,
        principal: Principal | None,
        phrase: str,
        criteria: CourseFilter,
        *,
        mode: SearchMode = SearchMode.HYBRID,
        first: int | None,
        after: str | None,
    ) -> Page[CourseRow]:
        """Ranked search of the courses the principal may see. FULL_TEXT: prefix matching,
        near-misses of titles match too; SEMANTIC: embedding similarity; HYBRID: both fused.
        Without the model (no `ai` extra) every mode ranks by full text."""
        if len(phrase) > 200:
            raise BadUserInput("query must be at most 200 characters.", field="query")
        terms = search_terms(phrase)
        semantic = mode is not SearchMode.FULL_TEXT and embeddings.available()
        query_vector = await asyncio.to_thread(embeddings.encode, [phrase]) if semantic else None
        async with self.sessions() as session:
            visible = await self._filtered(session, principal, criteria)
            full_text = _full_text_ranked(visible, phrase, terms)
            if query_vector is None:
                return await fetch_ranked_page(session, full_text, first=first, after=after)
            similar = await _semantic_ranked(session, visible, query_vector)
            if mode is SearchMode.SEMANTIC:
                ranked = similar
            else:
                lexical = await session.scalars(
                    full_text.with_only_columns(CourseRow.id).limit(FUSION_DEPTH)
                )
                ranked = fused([list(lexical), similar[:FUSION_DEPTH]])
            return await fetch_listed_page(session, CourseRow, ranked, first=first, after=after)

    async def reviews(self, principal: Principal, course_id: uuid.UUID) -> list[ReviewRow]:
        async with self.sessions() as session:
            access.editable(principal, await session.get(CourseRow, course_id), course_id)
            rows = await session.scalars(
                select(ReviewRow)
                .where(ReviewRow.course_id == course_id)
                .order_by(ReviewRow.created_at, ReviewRow.id)
            )
            return list(rows)

    # Changing courses

    async def create(self, principal: Principal, draft: CourseDraft) -> CourseRow:
        access.require_author(principal)
        description_html = render(draft.description, draft.description_format, field="description")
        async with self.sessions.begin() as session:
            await self._check_category(session, draft.category_id)
            slug = (
                validation.slug(draft.slug)
                if draft.slug
                else await self._free_slug(session, validation.slugify(draft.title))
            )
            course = CourseRow(
                id=uuid.uuid4(),
                slug=slug,
                title=validation.title(draft.title),
                description_source=draft.description,
                description_format=draft.description_format.value,
                description_html=description_html,
                status=CourseStatus.DRAFT.value,
                category_id=draft.category_id,
                tags=validation.tags(draft.tags),
                instructor_id=principal.user_id,
                co_instructor_ids=validation.co_instructors(
                    draft.co_instructor_ids, principal.user_id
                ),
                language=validation.language(draft.language),
                level=draft.level.value,
                is_template=draft.is_template,
                version=1,
            )
            session.add(course)
            await self._flush_unique(session, slug)
            await refresh_search(session, course.id)
        return course

    async def update(
        self, principal: Principal, course_id: uuid.UUID, changes: CourseChanges
    ) -> CourseRow:
        async with self.sessions.begin() as session:
            course = await access.editable_course(session, principal, course_id, lock=True)
            if course.version != changes.version:
                raise Conflict(
                    f"The course was changed since version {changes.version} (it is now "
                    f"version {course.version}); reload it and apply your change again.",
                    field="version",
                )
            values = dict(changes.values)
            if "title" in values:
                course.title = validation.title(values.pop("title"))
            if "slug" in values:
                course.slug = validation.slug(values.pop("slug"))
            if "description" in values or "description_format" in values:
                source = values.pop("description", course.description_source)
                text_format = TextFormat(
                    values.pop("description_format", course.description_format)
                )
                course.description_html = render(source, text_format, field="description")
                course.description_source = source
                course.description_format = text_format.value
            if "category_id" in values:
                course.category_id = values.pop("category_id")
                await self._check_category(session, course.category_id)
            if "tags" in values:
                course.tags = validation.tags(values.pop("tags"))
            if "language" in values:
                course.language = validation.language(values.pop("language"))
            if "level" in values:
                course.level = Level(values.pop("level")).value
            if "co_instructor_ids" in values:
                requested = values.pop("co_instructor_ids")
                if principal.user_id != course.instructor_id and not principal.is_admin:
                    raise Forbidden("Only the course's owner can change its co-instructors.")
                course.co_instructor_ids = validation.co_instructors(
                    requested, course.instructor_id
                )
            if "is_template" in values:
                course.is_template = bool(values.pop("is_template"))
            if values:
                raise BadUserInput(f"Unknown fields: {', '.join(sorted(values))}.")
            access.touch(course)
            await self._flush_unique(session, course.slug)
            await refresh_search(session, course.id)
            await announce(session, "course.updated", course_id=course.id)
        return course

    async def submit_for_review(self, principal: Principal, course_id: uuid.UUID) -> CourseRow:
        async with self.sessions.begin() as session:
            course = await access.editable_course(session, principal, course_id, lock=True)
            archived = course.status == CourseStatus.ARCHIVED.value
            if not archived:  # an archived course may return
                self._expect_status(course, CourseStatus.DRAFT, "submitted for review")
            lessons = await session.scalar(
                select(func.count()).select_from(LessonRow).where(LessonRow.course_id == course_id)
            )
            if not lessons:
                raise BadUserInput("Add at least one lesson before submitting for review.")
            course.status = CourseStatus.IN_REVIEW.value
            self._review(session, course, principal, "SUBMITTED", None)
            if archived:  # readable by all until now
                await announce(session, "course.unpublished", course_id=course.id)
        return course

    async def approve(
        self, principal: Principal, course_id: uuid.UUID, comment: str | None
    ) -> CourseRow:
        return await self._decide(principal, course_id, approve=True, comment=comment)

    async def reject(self, principal: Principal, course_id: uuid.UUID, comment: str) -> CourseRow:
        return await self._decide(principal, course_id, approve=False, comment=comment)

    async def _decide(
        self, principal: Principal, course_id: uuid.UUID, *, approve: bool, comment: str | None
    ) -> CourseRow:
        if not principal.is_admin:
            raise Forbidden("Only administrators approve or reject courses.")
        note = validation.comment(comment, required=not approve)
        async with self.sessions.begin() as session:
            course = await access.editable_course(session, principal, course_id, lock=True)
            self._expect_status(course, CourseStatus.IN_REVIEW, "approved or rejected")
            if approve:
                course.status = CourseStatus.PUBLISHED.value
                course.published_at = course.published_at or clock.now()
                await emit(
                    session,
                    EVENTS.outbox,
                    Event(
                        "course.published",
                        {"course_id": str(course.id), "title": course.title},
                        "courses",
                    ),
                )
            else:
                course.status = CourseStatus.DRAFT.value
            self._review(session, course, principal, "APPROVED" if approve else "REJECTED", note)
        return course

    async def archive(self, principal: Principal, course_id: uuid.UUID) -> CourseRow:
        async with self.sessions.begin() as session:
            course = await access.editable_course(session, principal, course_id, lock=True)
            if course.status == CourseStatus.ARCHIVED.value:
                raise Conflict("The course is already archived.")
            course.status = CourseStatus.ARCHIVED.value
            self._review(session, course, principal, "ARCHIVED", None)
            await announce(session, "course.archived", course_id=course.id)
        return course

    def _review(
        self,
        session: AsyncSession,
        course: CourseRow,
        principal: Principal,
        action: str,
        comment: str | None,
    ) -> None:
        access.touch(course)
        session.add(
            ReviewRow(
                id=uuid.uuid4(),
                course_id=course.id,
                action=action,
                comment=comment,
                actor_id=principal.user_id,
            )
        )

    @staticmethod
    def _expect_status(course: CourseRow, status: CourseStatus, action: str) -> None:
        if course.status != status.value:
            raise Conflict(
                f"Only a {status.value} course can be {action}; this one is {course.status}."
            )

    # Copies

    async def clone(
        self, principal: Principal, course_id: uuid.UUID, title: str | None
    ) -> CourseRow:
        """A deep copy (modules, lessons, current content, attachments) as the caller's draft."""
        access.require_author(principal)
        async with self.sessions.begin() as session:
            source = await access.editable_course(session, principal, course_id)
            return await self._copy(session, principal, source, title or f"Copy of {source.title}")

    async def from_template(
        self, principal: Principal, template_id: uuid.UUID, title: str
    ) -> CourseRow:
        access.require_author(principal)
        async with self.sessions.begin() as session:
            template = access.visible(
                principal, await session.get(CourseRow, template_id), template_id
            )
            if not template.is_template:
                raise BadUserInput("That course is not a template.", field="templateId")
            return await self._copy(session, principal, template, title)

    async def _copy(
        self, session: AsyncSession, principal: Principal, source: CourseRow, title: str
    ) -> CourseRow:
        course = CourseRow(
            id=uuid.uuid4(),
            slug=await self._free_slug(session, validation.slugify(title)),
            title=validation.title(title),
            description_source=source.description_source,
            description_format=source.description_format,
            description_html=source.description_html,
            status=CourseStatus.DRAFT.value,
            category_id=source.category_id,
            tags=list(source.tags),
            instructor_id=principal.user_id,
            co_instructor_ids=[],
            language=source.language,
            level=source.level,
            is_template=False,
            version=1,
        )
        session.add(course)
        await session.flush()
        modules = await session.scalars(
            select(ModuleRow).where(ModuleRow.course_id == source.id).order_by(ModuleRow.position)
        )
        for module in list(modules):
            copy = ModuleRow(
                id=uuid.uuid4(), course_id=course.id, title=module.title, position=module.position
            )
            session.add(copy)
            await session.flush()
            lessons = await session.scalars(
                select(LessonRow).where(LessonRow.module_id == module.id)
            )
            for lesson in list(lessons):
                await self._copy_lesson(session, principal, lesson, copy)
        await refresh_search(session, course.id)
        return course

    async def _copy_lesson(
        self, session: AsyncSession, principal: Principal, lesson: LessonRow, module: ModuleRow
    ) -> None:
        copy = LessonRow(
            id=uuid.uuid4(),
            module_id=module.id,
            course_id=module.course_id,
            title=lesson.title,
            position=lesson.position,
            required=lesson.required,
            duration_minutes=lesson.duration_minutes,
            version=1,
            body_source=lesson.body_source,
            body_format=lesson.body_format,
            body_html=lesson.body_html,
        )
        session.add(copy)
        await session.flush()
        session.add(version_of(copy, principal.user_id))
        attachments = await session.scalars(
            select(AttachmentRow).where(AttachmentRow.lesson_id == lesson.id)
        )
        for attachment in list(attachments):
            session.add(
                AttachmentRow(
                    id=uuid.uuid4(),
                    lesson_id=copy.id,
                    filename=attachment.filename,
                    content_type=attachment.content_type,
                    size=attachment.size,
                    sha256=attachment.sha256,
                    storage_key=attachment.storage_key,
                    uploaded_by=principal.user_id,
                )
            )

    # Categories

    async def create_category(
        self, principal: Principal, name: str, slug: str | None, parent_id: uuid.UUID | None
    ) -> CategoryRow:
        if not principal.is_admin:
            raise Forbidden("Only administrators manage categories.")
        category = CategoryRow(
            id=uuid.uuid4(),
            name=text(name, field="name", low=2, high=100),
            slug=validation.slug(slug) if slug else validation.slugify(name),
            parent_id=parent_id,
        )
        try:
            async with self.sessions.begin() as session:
                await self._check_category(session, parent_id, field="parentId")
                session.add(category)
                await session.flush()
                await announce(
                    session, "category.changed", category_id=category.id, change="created"
                )
        except IntegrityError:
            raise Conflict(
                f"A category with slug {category.slug!r} exists.", field="slug"
            ) from None
        return category

    async def categories(self, parent_id: uuid.UUID | None) -> list[CategoryRow]:
        async with self.sessions() as session:
            condition = (
                CategoryRow.parent_id.is_(None)
                if parent_id is None
                else CategoryRow.parent_id == parent_id
            )
            return list(
                await session.scalars(
                    select(CategoryRow).where(condition).order_by(CategoryRow.name)
                )
            )

    async def _check_category(
        self, session: AsyncSession, category_id: uuid.UUID | None, field: str = "categoryId"
    ) -> None:
        if category_id is not None and await session.get(CategoryRow, category_id) is None:
            raise NotFound(f"No category has id {category_id}.", field=field)

    # Batch loading for DataLoaders

    async def by_ids(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, CourseRow]:
        return await rows_by_id(self.sessions, CourseRow, ids)

    async def modules_of(self, course_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ModuleRow]]:
        return await rows_grouped(
            self.sessions, ModuleRow, ModuleRow.course_id, course_ids, ModuleRow.position
        )

    async def lessons_of(self, module_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[LessonRow]]:
        return await rows_grouped(
            self.sessions, LessonRow, LessonRow.module_id, module_ids, LessonRow.position
        )

    async def attachments_of(
        self, lesson_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[AttachmentRow]]:
        return await rows_grouped(
            self.sessions,
            AttachmentRow,
            AttachmentRow.lesson_id,
            lesson_ids,
            AttachmentRow.created_at,
            AttachmentRow.id,
        )

    async def lessons_by_ids(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, LessonRow]:
        return await rows_by_id(self.sessions, LessonRow, ids)

    async def categories_by_ids(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, CategoryRow]:
        return await rows_by_id(self.sessions, CategoryRow, ids)

    async def children_of(self, parent_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[CategoryRow]]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(CategoryRow)
                .where(CategoryRow.parent_id.in_(parent_ids))
                .order_by(CategoryRow.name)
            )
            grouped: dict[uuid.UUID, list[CategoryRow]] = defaultdict(list)
            for row in rows:
                assert row.parent_id is not None
                grouped[row.parent_id].append(row)
            return grouped

    async def taught_by(self, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[CourseRow]]:
        """Courses each user owns or co-teaches (visibility is applied by the caller)."""
        async with self.sessions() as session:
            rows = await session.scalars(
                select(CourseRow)
                .where(
                    CourseRow.instructor_id.in_(user_ids)
                    | CourseRow.co_instructor_ids.overlap(user_ids)
                )
                .order_by(CourseRow.created_at, CourseRow.id)
            )
            grouped: dict[uuid.UUID, list[CourseRow]] = defaultdict(list)
            wanted = set(user_ids)
            for row in rows:
                for teacher in {row.instructor_id, *row.co_instructor_ids} & wanted:
                    grouped[teacher].append(row)
            return grouped

    # Shared steps

    async def _free_slug(self, session: AsyncSession, base: str) -> str:
        return await free_slug(session, base)

    @staticmethod
    async def _flush_unique(session: AsyncSession, slug: str) -> None:
        try:
            await session.flush()
        except IntegrityError:
            raise Conflict(f"Another course has the slug {slug!r}.", field="slug") from None


async def free_slug(session: AsyncSession, base: str) -> str:
    """`base`, or `base-2`, `base-3`… whichever no course has yet."""
    taken = set(
        await session.scalars(
            select(CourseRow.slug).where(
                (CourseRow.slug == base) | CourseRow.slug.like(f"{base}-%")
            )
        )
    )
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"
