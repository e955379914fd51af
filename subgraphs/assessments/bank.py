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


class QuestionBank:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def create(
        self, principal: Principal, course: CourseFacts, draft: QuestionDraft, meta: QuestionMeta
    ) -> QuestionRow:
        require_manager(principal, course, "write questions for it")
        spec = build_spec(draft)
        row = QuestionRow(
            course_id=course.id,
            kind=draft.kind.value,
            prompt=draft.prompt.strip(),
            points=draft.points,
            difficulty=meta.difficulty.value,
            tags=validation.tags(meta.tags, limit=MAX_QUESTION_TAGS, owner="A question"),
            spec=spec,
            created_by=principal.user_id,
        )
        async with self.sessions.begin() as session:
            session.add(row)
            await session.flush()
            await session.refresh(row)
        return row

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
