"""Checking submitted answers: fingerprints stored per answer, candidates found by index
lookups, matches kept in both directions.

An answer to a CODE question is compared with every other learner's answer to that question
(in any assessment that uses it: earlier terms' too) sharing one of its fingerprints; an
ESSAY answer only with the answers sharing one of its LSH band keys. The learner's own other
attempts are never compared. A re-check replaces what an answer had.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, distinct, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.assessments.models import AnswerRow, AttemptRow, QuestionRow
from subgraphs.assessments.plagiarism.analysis import (
    Analysis,
    AnswerKind,
    analyse_code,
    analyse_text,
)
from subgraphs.assessments.plagiarism.compare import matched_spans
from subgraphs.assessments.plagiarism.fingerprints import Fingerprint
from subgraphs.assessments.plagiarism.tables import (
    BandRow,
    CheckedAnswerRow,
    FingerprintRow,
    MatchRow,
    PlagiarismSettingsRow,
)
from subgraphs.assessments.questions import QuestionKind

KEPT_MATCHES = 10  # the most similar answers kept per answer
FLOOR = 0.1  # below this a resemblance is not kept at all
MAX_FINGERPRINTS = 5000
CHECKED_KINDS = {
    QuestionKind.CODE.value: AnswerKind.CODE,
    QuestionKind.ESSAY.value: AnswerKind.TEXT,
}


@dataclass(frozen=True, slots=True)
class _Candidate:
    attempt_id: uuid.UUID
    score: float


def analyse(
    kind: AnswerKind, response: dict[str, object], question: QuestionRow
) -> Analysis | None:
    """The answer's analysis, or None when it has nothing to compare."""
    text = response.get("code" if kind is AnswerKind.CODE else "text")
    if not isinstance(text, str) or not text.strip():
        return None
    if kind is AnswerKind.CODE:
        return analyse_code(text, str(question.spec.get("starter") or ""))
    return analyse_text(text)


async def check_attempt(session: AsyncSession, attempt_id: uuid.UUID) -> int:
    """Check a submitted attempt's code and essay answers; returns how many were checked."""
    attempt = await session.get(AttemptRow, attempt_id)
    if attempt is None or attempt.submitted_at is None:
        return 0
    settings = await session.get(PlagiarismSettingsRow, attempt.assessment_id)
    if settings is not None and not settings.enabled:
        return 0
    excluded = set(settings.excluded_question_ids) if settings is not None else set()
    questions = list(
        await session.scalars(
            select(QuestionRow).where(
                QuestionRow.id.in_(attempt.question_ids),
                QuestionRow.kind.in_(list(CHECKED_KINDS)),
            )
        )
    )
    answers = {
        row.question_id: row
        for row in await session.scalars(
            select(AnswerRow).where(AnswerRow.attempt_id == attempt_id)
        )
    }
    checked = 0
    for question in questions:
        await _forget(session, attempt_id, question.id)
        if question.id in excluded:
            continue
        answer = answers.get(question.id)
        kind = CHECKED_KINDS[question.kind]
        analysis = None if answer is None else analyse(kind, answer.response, question)
        if analysis is None or not analysis.fingerprints:
            continue
        await _store(session, attempt, question.id, analysis)
        await _match(session, attempt, question.id, analysis)
        checked += 1
    return checked


async def check_assessment(session: AsyncSession, assessment_id: uuid.UUID) -> int:
    """Check every submitted attempt of an assessment again, in submission order."""
    attempts = await session.scalars(
        select(AttemptRow.id)
        .where(AttemptRow.assessment_id == assessment_id, AttemptRow.submitted_at.is_not(None))
        .order_by(AttemptRow.submitted_at, AttemptRow.id)
    )
    return sum([await check_attempt(session, attempt_id) for attempt_id in list(attempts)])


async def _forget(session: AsyncSession, attempt_id: uuid.UUID, question_id: uuid.UUID) -> None:
    others = list(
        await session.scalars(
            delete(MatchRow)
            .where(MatchRow.other_attempt_id == attempt_id, MatchRow.question_id == question_id)
            .returning(MatchRow.attempt_id)
        )
    )
    for table in (MatchRow, FingerprintRow, BandRow, CheckedAnswerRow):
        await session.execute(
            delete(table).where(table.attempt_id == attempt_id, table.question_id == question_id)
        )
    await _rescore(session, others, question_id)


async def _rescore(
    session: AsyncSession, attempt_ids: Sequence[uuid.UUID], question_id: uuid.UUID
) -> None:
    """An answer's score is its best match's."""
    if not attempt_ids:
        return
    best = (
        select(func.coalesce(func.max(MatchRow.score), 0.0))
        .where(
            MatchRow.attempt_id == CheckedAnswerRow.attempt_id,
            MatchRow.question_id == CheckedAnswerRow.question_id,
        )
        .scalar_subquery()
    )
    await session.execute(
        update(CheckedAnswerRow)
        .where(
            CheckedAnswerRow.attempt_id.in_(set(attempt_ids)),
            CheckedAnswerRow.question_id == question_id,
        )
        .values(score=best)
        .execution_options(synchronize_session=False)
    )


async def _store(
    session: AsyncSession, attempt: AttemptRow, question_id: uuid.UUID, analysis: Analysis
) -> None:
    prints = analysis.fingerprints[:MAX_FINGERPRINTS]
    session.add(
        CheckedAnswerRow(
            attempt_id=attempt.id,
            question_id=question_id,
            user_id=attempt.user_id,
            kind=analysis.kind.value,
            fingerprint_count=len({fp.hash for fp in prints}),
        )
    )
    await session.flush()
    await session.execute(
        insert(FingerprintRow),
        [
            {
                "attempt_id": attempt.id,
                "question_id": question_id,
                "position": position,
                "hash": fp.hash,
                "start": fp.start,
                "end": fp.end,
            }
            for position, fp in enumerate(prints)
        ],
    )
    if analysis.band_keys:
        await session.execute(
            insert(BandRow).on_conflict_do_nothing(),
            [
                {"attempt_id": attempt.id, "question_id": question_id, "key": key}
                for key in set(analysis.band_keys)
            ],
        )


async def _candidates(
    session: AsyncSession, attempt: AttemptRow, question_id: uuid.UUID, analysis: Analysis
) -> list[_Candidate]:
    """Other learners' answers sharing fingerprints (for text: among those sharing a band),
    scored by the share of the smaller one's fingerprints they have in common."""
    hashes = sorted({fp.hash for fp in analysis.fingerprints[:MAX_FINGERPRINTS]})
    # Shared fingerprints counted from the (question, hash) index first, then joined to
    # their answers (for the owner and size): never a scan of the question's answers.
    shared = select(
        FingerprintRow.attempt_id, func.count(distinct(FingerprintRow.hash)).label("shared")
    ).where(FingerprintRow.question_id == question_id, FingerprintRow.hash.in_(hashes))
    if analysis.kind is AnswerKind.TEXT:
        banded = (
            select(BandRow.attempt_id)
            .distinct()
            .where(BandRow.question_id == question_id, BandRow.key.in_(set(analysis.band_keys)))
            .where(BandRow.attempt_id != attempt.id)
        )
        shared = shared.where(FingerprintRow.attempt_id.in_(banded))
    counted = shared.group_by(FingerprintRow.attempt_id).subquery()
    query = (
        select(counted.c.attempt_id, counted.c.shared, CheckedAnswerRow.fingerprint_count)
        .join(
            CheckedAnswerRow,
            (CheckedAnswerRow.attempt_id == counted.c.attempt_id)
            & (CheckedAnswerRow.question_id == question_id),
        )
        .where(CheckedAnswerRow.user_id != attempt.user_id)
    )
    found = [
        _Candidate(other, shared / max(1, min(len(hashes), count)))
        for other, shared, count in await session.execute(query)
    ]
    found = [c for c in found if c.score >= FLOOR]
    found.sort(key=lambda c: c.score, reverse=True)
    return found[:KEPT_MATCHES]


async def _match(
    session: AsyncSession, attempt: AttemptRow, question_id: uuid.UUID, analysis: Analysis
) -> None:
    candidates = await _candidates(session, attempt, question_id, analysis)
    if not candidates:
        return
    theirs: dict[uuid.UUID, list[Fingerprint]] = {c.attempt_id: [] for c in candidates}
    for row in await session.scalars(
        select(FingerprintRow)
        .where(
            FingerprintRow.question_id == question_id,
            FingerprintRow.attempt_id.in_(list(theirs)),
        )
        .order_by(FingerprintRow.attempt_id, FingerprintRow.position)
    ):
        theirs[row.attempt_id].append(Fingerprint(row.hash, row.start, row.end))
    rows = []
    for candidate in candidates:
        spans = matched_spans(analysis.fingerprints, theirs[candidate.attempt_id])
        forward = [[s.left.start, s.left.end, s.right.start, s.right.end] for s in spans]
        backward = sorted([[c, d, a, b] for a, b, c, d in forward])
        score = round(candidate.score, 4)
        rows.append(
            {
                "attempt_id": attempt.id,
                "question_id": question_id,
                "other_attempt_id": candidate.attempt_id,
                "score": score,
                "spans": forward,
            }
        )
        rows.append(
            {
                "attempt_id": candidate.attempt_id,
                "question_id": question_id,
                "other_attempt_id": attempt.id,
                "score": score,
                "spans": backward,
            }
        )
    statement = insert(MatchRow)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[MatchRow.attempt_id, MatchRow.question_id, MatchRow.other_attempt_id],
            set_={"score": statement.excluded.score, "spans": statement.excluded.spans},
        ),
        rows,
    )
    await _rescore(session, [attempt.id, *theirs], question_id)
