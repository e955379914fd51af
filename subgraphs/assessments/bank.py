"""A course's question bank: its instructors (and administrators) write and archive questions.

Questions are never deleted once written (attempts point at them); archiving takes one out
of random draws and of the bank's default listing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import clock, validation
from common.auth import Principal
from common.db.batches import rows_by_id
from common.db.pagination import Page, fetch_page
from common.errors import Forbidden
from common.graphql.catalog import CourseFacts
from subgraphs.assessments.models import QuestionRow
from subgraphs.assessments.questions import Difficulty, QuestionDraft, QuestionKind, build_spec

MAX_QUESTION_TAGS = 10


def can_manage(principal: Principal, course: CourseFacts) -> bool:
    """A course's instructors and administrators write its questions and assessments, grade
    its attempts and see its answer keys."""
    return principal.is_admin or course.taught_by(principal.user_id)


def require_manager(principal: Principal, course: CourseFacts, action: str) -> None:
    if not can_manage(principal, course):
        raise Forbidden(f"Only the course's instructors and administrators can {action}.")


@dataclass(frozen=True, slots=True)
class QuestionMeta:
    difficulty: Difficulty = Difficulty.MEDIUM
    tags: Sequence[str] = ()


def question_rows(
    principal: Principal,
    course: CourseFacts,
    drafts: Sequence[tuple[QuestionDraft, QuestionMeta]],
) -> list[QuestionRow]:
    """New rows of `drafts`, each checked (BAD_USER_INPUT otherwise), not yet added."""
    require_manager(principal, course, "write questions for it")
    return [
        QuestionRow(
            course_id=course.id,
            kind=draft.kind.value,
            prompt=draft.prompt.strip(),
            points=draft.points,
            difficulty=meta.difficulty.value,
            tags=validation.tags(meta.tags, limit=MAX_QUESTION_TAGS, owner="A question"),
            spec=build_spec(draft),
            created_by=principal.user_id,
        )
        for draft, meta in drafts
    ]


class QuestionBank:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def create(
        self, principal: Principal, course: CourseFacts, draft: QuestionDraft, meta: QuestionMeta
    ) -> QuestionRow:
        (row,) = await self.create_many(principal, course, [(draft, meta)])
        return row

    async def create_many(
        self,
        principal: Principal,
        course: CourseFacts,
        drafts: Sequence[tuple[QuestionDraft, QuestionMeta]],
    ) -> list[QuestionRow]:
        """All of `drafts`, checked first, in one transaction (all or none)."""
        rows = question_rows(principal, course, drafts)
        async with self.sessions.begin() as session:
            session.add_all(rows)
            await session.flush()
            for row in rows:
                await session.refresh(row)
        return rows

    async def exportable(self, course_id: uuid.UUID) -> list[QuestionRow]:
        """A course's questions not archived, oldest first: what an export holds (the
        caller checked who asks)."""
        query = (
            select(QuestionRow)
            .where(QuestionRow.course_id == course_id, QuestionRow.archived.is_(False))
            .order_by(QuestionRow.created_at, QuestionRow.id)
        )
        async with self.sessions() as session:
            return list((await session.scalars(query)).all())

    async def update(
        self,
        principal: Principal,
        course: CourseFacts,
        question: QuestionRow,
        draft: QuestionDraft,
        meta: QuestionMeta,
    ) -> QuestionRow:
        """Replace a question. Attempts already graded keep their points; later gradings and
        new attempts use the new version."""
        require_manager(principal, course, "edit its questions")
        spec = build_spec(draft)
        async with self.sessions.begin() as session:
            row = await session.get(QuestionRow, question.id, with_for_update=True)
            assert row is not None
            row.kind = draft.kind.value
            row.prompt = draft.prompt.strip()
            row.points = draft.points
            row.difficulty = meta.difficulty.value
            row.tags = validation.tags(meta.tags, limit=MAX_QUESTION_TAGS, owner="A question")
            row.spec = spec
            row.updated_at = clock.now()
        return row

    async def set_archived(
        self, principal: Principal, course: CourseFacts, question: QuestionRow, archived: bool
    ) -> QuestionRow:
        require_manager(principal, course, "archive its questions")
        async with self.sessions.begin() as session:
            row = await session.get(QuestionRow, question.id, with_for_update=True)
            assert row is not None
            row.archived = archived
            row.updated_at = clock.now()
        return row

    async def listing(
        self,
        principal: Principal,
        course: CourseFacts,
        *,
        tag: str | None,
        kind: QuestionKind | None,
        archived: bool,
        first: int | None,
        after: str | None,
    ) -> Page[QuestionRow]:
        require_manager(principal, course, "see its question bank")
        query = select(QuestionRow).where(
            QuestionRow.course_id == course.id, QuestionRow.archived.is_(archived)
        )
        if tag is not None:
            query = query.where(
                QuestionRow.tags.contains(validation.tags([tag], limit=1, owner="A filter"))
            )
        if kind is not None:
            query = query.where(QuestionRow.kind == kind.value)
        async with self.sessions() as session:
            return await fetch_page(
                session,
                query,
                created_at=QuestionRow.created_at,
                row_id=QuestionRow.id,
                first=first,
                after=after,
            )

    async def by_ids(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, QuestionRow]:
        return await rows_by_id(self.sessions, QuestionRow, ids)
