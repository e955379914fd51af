"""What instructors and administrators read and change of plagiarism detection. Callers
check access first (the GraphQL layer: the course's instructors and administrators only)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import clock
from common.errors import BadUserInput
from common.events.envelope import Event
from common.events.outbox import emit
from subgraphs.assessments.models import EVENTS, AnswerRow, AssessmentRow, AttemptRow
from subgraphs.assessments.plagiarism.analysis import AnswerKind, Method, answer_text
from subgraphs.assessments.plagiarism.clusters import clusters_of
from subgraphs.assessments.plagiarism.tables import (
    CheckedAnswerRow,
    MatchRow,
    PlagiarismSettingsRow,
)
from subgraphs.assessments.plagiarism.thresholds import CODE_THRESHOLD, TEXT_THRESHOLD

MAX_PAIRS = 200


@dataclass(frozen=True, slots=True)
class DetectionSettings:
    enabled: bool = True
    code_threshold: float = CODE_THRESHOLD
    text_threshold: float = TEXT_THRESHOLD
    excluded_question_ids: Sequence[uuid.UUID] = ()

    def threshold(self, kind: AnswerKind) -> float:
        return self.code_threshold if kind is AnswerKind.CODE else self.text_threshold


@dataclass(frozen=True, slots=True)
class Match:
    attempt_id: uuid.UUID
    user_id: uuid.UUID
    score: float
    text: str
    spans: list[list[int]]
    method: Method


@dataclass(frozen=True, slots=True)
class AnswerReport:
    question_id: uuid.UUID
    kind: AnswerKind
    score: float
    checked_at: datetime
    text: str
    matches: list[Match]
    stages: list[Method]  # what the check ran: EMBEDDING only with the `ai` extra


@dataclass(frozen=True, slots=True)
class Pair:
    question_id: uuid.UUID
    kind: AnswerKind
    score: float
    attempt_id: uuid.UUID
    user_id: uuid.UUID
    other_attempt_id: uuid.UUID
    other_user_id: uuid.UUID
    method: Method


@dataclass(frozen=True, slots=True)
class Cluster:
    attempt_ids: list[uuid.UUID]
    user_ids: list[uuid.UUID]
    score: float


def _answer_text(row: AnswerRow | None, kind: AnswerKind) -> str:
    return "" if row is None else answer_text(kind, row.response)


class PlagiarismService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def settings(self, assessment_id: uuid.UUID) -> DetectionSettings:
        async with self.sessions() as session:
            row = await session.get(PlagiarismSettingsRow, assessment_id)
        if row is None:
            return DetectionSettings()
        return DetectionSettings(
            row.enabled, row.code_threshold, row.text_threshold, list(row.excluded_question_ids)
        )

    async def configure(
        self, assessment: AssessmentRow, settings: DetectionSettings
    ) -> DetectionSettings:
        for name, value in (
            ("codeThreshold", settings.code_threshold),
            ("textThreshold", settings.text_threshold),
        ):
            if not 0.0 < value <= 1.0:
                raise BadUserInput(f"{name} is a share from above 0 to 1.", field=name)
        values = {
            "enabled": settings.enabled,
            "code_threshold": settings.code_threshold,
            "text_threshold": settings.text_threshold,
            "excluded_question_ids": list(dict.fromkeys(settings.excluded_question_ids)),
            "updated_at": clock.now(),
        }
        statement = insert(PlagiarismSettingsRow).values(assessment_id=assessment.id, **values)
        async with self.sessions.begin() as session:
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=[PlagiarismSettingsRow.assessment_id], set_=values
                )
            )
        return await self.settings(assessment.id)

    async def request_recheck(self, assessment: AssessmentRow) -> None:
        """The worker checks every submitted attempt of the assessment again."""
        async with self.sessions.begin() as session:
            await emit(
                session,
                EVENTS.outbox,
                Event(
                    "plagiarism.recheck_requested",
                    {"assessment_id": str(assessment.id)},
                    "assessments",
                ),
            )

    async def attempt_report(self, attempt_id: uuid.UUID) -> list[AnswerReport]:
        async with self.sessions() as session:
            checked = list(
                await session.scalars(
                    select(CheckedAnswerRow)
                    .where(CheckedAnswerRow.attempt_id == attempt_id)
                    .order_by(CheckedAnswerRow.question_id)
                )
            )
            matches = list(
                await session.execute(
                    select(MatchRow, AttemptRow.user_id)
                    .join(AttemptRow, AttemptRow.id == MatchRow.other_attempt_id)
                    .where(MatchRow.attempt_id == attempt_id)
                    .order_by(MatchRow.score.desc(), MatchRow.other_attempt_id)
                )
            )
            wanted = {attempt_id} | {match.other_attempt_id for match, _ in matches}
            answers = {
                (row.attempt_id, row.question_id): row
                for row in await session.scalars(
                    select(AnswerRow).where(AnswerRow.attempt_id.in_(wanted))
                )
            }
        reports = []
        for row in checked:
            kind = AnswerKind(row.kind)
            reports.append(
                AnswerReport(
                    question_id=row.question_id,
                    kind=kind,
                    score=row.score,
                    checked_at=row.checked_at,
                    text=_answer_text(answers.get((attempt_id, row.question_id)), kind),
                    matches=[
                        Match(
                            match.other_attempt_id,
                            user_id,
                            match.score,
                            _answer_text(
                                answers.get((match.other_attempt_id, row.question_id)), kind
                            ),
                            [list(span) for span in match.spans],
                            Method(match.method),
                        )
                        for match, user_id in matches
                        if match.question_id == row.question_id
                    ],
                    stages=[Method(stage) for stage in row.stages],
                )
            )
        return reports

    async def suspicious_pairs(
        self, assessment_id: uuid.UUID, settings: DetectionSettings, limit: int = MAX_PAIRS
    ) -> list[Pair]:
        """Pairs over their kind's threshold with an attempt of this assessment (the other
        may be of any assessment using the question), most similar first, each pair once."""
        async with self.sessions() as session:
            mine = select(AttemptRow.id).where(AttemptRow.assessment_id == assessment_id)
            rows = await session.execute(
                select(MatchRow, CheckedAnswerRow.kind, CheckedAnswerRow.user_id)
                .join(
                    CheckedAnswerRow,
                    (CheckedAnswerRow.attempt_id == MatchRow.attempt_id)
                    & (CheckedAnswerRow.question_id == MatchRow.question_id),
                )
                .where(MatchRow.attempt_id.in_(mine))
                .order_by(MatchRow.score.desc(), MatchRow.attempt_id, MatchRow.other_attempt_id)
            )
            found = [
                (match, AnswerKind(kind), user_id)
                for match, kind, user_id in rows
                if match.score >= settings.threshold(AnswerKind(kind))
            ]
            others: dict[uuid.UUID, uuid.UUID] = {
                row.id: row.user_id
                for row in await session.execute(
                    select(AttemptRow.id, AttemptRow.user_id).where(
                        AttemptRow.id.in_({m.other_attempt_id for m, _, _ in found})
                    )
                )
            }
        pairs: list[Pair] = []
        seen: set[tuple[uuid.UUID, uuid.UUID, uuid.UUID]] = set()
        for match, kind, user_id in found:
            low, high = sorted((match.attempt_id, match.other_attempt_id))
            if (match.question_id, low, high) in seen:
                continue
            seen.add((match.question_id, low, high))
            pairs.append(
                Pair(
                    match.question_id,
                    kind,
                    match.score,
                    match.attempt_id,
                    user_id,
                    match.other_attempt_id,
                    others[match.other_attempt_id],
                    Method(match.method),
                )
            )
        return pairs[:limit]


def clusters(pairs: Sequence[Pair]) -> list[Cluster]:
    """Groups of attempts joined by suspicious pairs, the largest and most similar first."""
    users = {p.attempt_id: p.user_id for p in pairs} | {
        p.other_attempt_id: p.other_user_id for p in pairs
    }
    groups = clusters_of([(p.attempt_id, p.other_attempt_id, p.score) for p in pairs])
    return [
        Cluster(sorted(group.members), [users[m] for m in sorted(group.members)], group.score)
        for group in groups
    ]
