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
from subgraphs.assessments.plagiarism.compare import containment, matched_spans
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
CANDIDATES = 20  # scored exactly: those sharing the most uncommon fingerprints
COMMON_SHARE = 0.05
COMMON_AT_LEAST = 50
CHECKED_KINDS = {
    QuestionKind.CODE.value: AnswerKind.CODE,
    QuestionKind.ESSAY.value: AnswerKind.TEXT,
}


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


async def _common_hashes(
    session: AsyncSession, question_id: uuid.UUID, hashes: list[int]
) -> set[int]:
    """Fingerprints in more than COMMON_SHARE of the question's answers (and more than
    COMMON_AT_LEAST): idioms everyone writes, which find no one in particular (MOSS ignores
    them too). A ring of copies stays below the bar unless it is that large a share."""
    answers = await session.scalar(
        select(func.count()).where(CheckedAnswerRow.question_id == question_id)
    )
    bar = max(COMMON_AT_LEAST, COMMON_SHARE * (answers or 0))
    counted = await session.execute(
        select(FingerprintRow.hash)
        .where(FingerprintRow.question_id == question_id, FingerprintRow.hash.in_(hashes))
        .group_by(FingerprintRow.hash)
        .having(func.count() > bar)
    )
    return {row.hash for row in counted}


async def _candidates(
    session: AsyncSession, attempt: AttemptRow, question_id: uuid.UUID, analysis: Analysis
) -> list[uuid.UUID]:
    """Other learners' answers sharing the most of this one's uncommon fingerprints (for
    text: among those sharing an LSH band), from the (question, hash) index."""
    hashes = sorted({fp.hash for fp in analysis.fingerprints[:MAX_FINGERPRINTS]})
    rare = sorted(set(hashes) - await _common_hashes(session, question_id, hashes))
    if not rare:
        return []
    shared = select(
        FingerprintRow.attempt_id, func.count(distinct(FingerprintRow.hash)).label("shared")
    ).where(FingerprintRow.question_id == question_id, FingerprintRow.hash.in_(rare))
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
        select(counted.c.attempt_id)
        .join(
            CheckedAnswerRow,
            (CheckedAnswerRow.attempt_id == counted.c.attempt_id)
            & (CheckedAnswerRow.question_id == question_id),
        )
        .where(CheckedAnswerRow.user_id != attempt.user_id)
        .order_by(counted.c.shared.desc())
        .limit(CANDIDATES)
    )
    return list(await session.scalars(query))


async def _match(
    session: AsyncSession, attempt: AttemptRow, question_id: uuid.UUID, analysis: Analysis
) -> None:
    """Score the candidates on all their fingerprints; keep the best with their spans."""
    candidates = await _candidates(session, attempt, question_id, analysis)
    if not candidates:
        return
    theirs: dict[uuid.UUID, list[Fingerprint]] = {c: [] for c in candidates}
    for row in await session.execute(
        select(
            FingerprintRow.attempt_id, FingerprintRow.hash, FingerprintRow.start, FingerprintRow.end
        )
        .where(
            FingerprintRow.question_id == question_id,
            FingerprintRow.attempt_id.in_(candidates),
        )
        .order_by(FingerprintRow.attempt_id, FingerprintRow.position)
    ):
        theirs[row.attempt_id].append(Fingerprint(row.hash, row.start, row.end))
    mine = analysis.hashes
    scored = sorted(
        (
            (containment(mine, {fp.hash for fp in prints}), other)
            for other, prints in theirs.items()
        ),
        key=lambda item: (-item[0], str(item[1])),
    )
    kept = [(score, other) for score, other in scored[:KEPT_MATCHES] if score >= FLOOR]
    if not kept:
        return
    rows = []
    for exact, other in kept:
        spans = matched_spans(analysis.fingerprints, theirs[other])
        forward = [[s.left.start, s.left.end, s.right.start, s.right.end] for s in spans]
        backward = sorted([[c, d, a, b] for a, b, c, d in forward])
        score = round(exact, 4)
        rows.append(
            {
                "attempt_id": attempt.id,
                "question_id": question_id,
                "other_attempt_id": other,
                "score": score,
                "spans": forward,
            }
        )
        rows.append(
            {
                "attempt_id": other,
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
    await _rescore(session, [attempt.id, *(other for _, other in kept)], question_id)
