"""Checking submitted answers: fingerprints stored per answer, candidates found by index
lookups, matches kept in both directions.

An answer to a CODE question is compared with every other learner's answer to that question
(in any assessment that uses it: earlier terms' too) sharing one of its fingerprints; an
ESSAY answer only with the answers sharing one of its LSH band keys, and, when the `ai` extra
is installed, with the answers whose sentences are closest to its own (paraphrase_check): a
match's score is the higher of the two methods', and the method is kept with it. The learner's
own other attempts are never compared. A re-check replaces what an answer had.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, distinct, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from common.ai import embeddings
from subgraphs.assessments.models import AnswerRow, AttemptRow, QuestionRow
from subgraphs.assessments.plagiarism.analysis import (
    Analysis,
    AnswerKind,
    Method,
    analyse_code,
    analyse_text,
    answer_text,
)
from subgraphs.assessments.plagiarism.compare import MatchedSpan, containment, matched_spans
from subgraphs.assessments.plagiarism.fingerprints import Fingerprint
from subgraphs.assessments.plagiarism.paraphrase import EmbeddedEssay
from subgraphs.assessments.plagiarism.paraphrase_check import (
    embed_essay,
    paraphrase_matches,
    store_sentences,
)
from subgraphs.assessments.plagiarism.tables import (
    BandRow,
    CheckedAnswerRow,
    FingerprintRow,
    MatchRow,
    PlagiarismSettingsRow,
    SentencesRow,
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
    text = answer_text(kind, response)
    if not text.strip():
        return None
    if kind is AnswerKind.CODE:
        return analyse_code(text, str(question.spec.get("starter") or ""))
    return analyse_text(text)


async def check_attempt(
    session: AsyncSession, attempt_id: uuid.UUID, *, paraphrase: bool = True
) -> int:
    """Check a submitted attempt's code and essay answers; returns how many were checked.
    Essays go through the paraphrase stage too when the model is installed (and `paraphrase`:
    the benchmark times them without)."""
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
        if answer is None or analysis is None or not analysis.fingerprints:
            continue
        essay = None
        if kind is AnswerKind.TEXT and paraphrase and embeddings.available():
            essay = await embed_essay(answer_text(kind, answer.response))
        await _store(session, attempt, question.id, analysis, essay)
        await _match(session, attempt, question.id, analysis, essay)
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
    for table in (MatchRow, FingerprintRow, BandRow, SentencesRow, CheckedAnswerRow):
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
    session: AsyncSession,
    attempt: AttemptRow,
    question_id: uuid.UUID,
    analysis: Analysis,
    essay: EmbeddedEssay | None,
) -> None:
    prints = analysis.fingerprints[:MAX_FINGERPRINTS]
    stages = [Method.FINGERPRINT] if essay is None else [Method.FINGERPRINT, Method.EMBEDDING]
    session.add(
        CheckedAnswerRow(
            attempt_id=attempt.id,
            question_id=question_id,
            user_id=attempt.user_id,
            kind=analysis.kind.value,
            fingerprint_count=len({fp.hash for fp in prints}),
            stages=[stage.value for stage in stages],
        )
    )
    await session.flush()
    if essay is not None:
        await store_sentences(session, attempt.id, question_id, essay)
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


async def _fingerprint_matches(
    session: AsyncSession, attempt: AttemptRow, question_id: uuid.UUID, analysis: Analysis
) -> dict[uuid.UUID, _Found]:
    """Candidates scored on all their fingerprints (spans computed for the kept ones only)."""
    candidates = await _candidates(session, attempt, question_id, analysis)
    if not candidates:
        return {}
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

    def spans_of(prints: list[Fingerprint]) -> Callable[[], list[MatchedSpan]]:
        return lambda: matched_spans(analysis.fingerprints, prints)

    return {
        other: _Found(
            containment(mine, {fp.hash for fp in prints}), Method.FINGERPRINT, spans_of(prints)
        )
        for other, prints in theirs.items()
    }


@dataclass(frozen=True, slots=True)
class _Found:
    score: float
    method: Method
    spans: Callable[[], list[MatchedSpan]]  # computed for the kept matches only


def _fixed(spans: list[MatchedSpan]) -> Callable[[], list[MatchedSpan]]:
    return lambda: spans


async def _match(
    session: AsyncSession,
    attempt: AttemptRow,
    question_id: uuid.UUID,
    analysis: Analysis,
    essay: EmbeddedEssay | None,
) -> None:
    """Score the candidates of each stage; keep the best with their spans and method."""
    found = await _fingerprint_matches(session, attempt, question_id, analysis)
    if essay is not None:
        paraphrased = await paraphrase_matches(session, attempt, question_id, essay)
        for other, paraphrase in paraphrased.items():
            if other not in found or paraphrase.score > found[other].score:
                found[other] = _Found(paraphrase.score, Method.EMBEDDING, _fixed(paraphrase.spans))
    scored = sorted(found.items(), key=lambda item: (-item[1].score, str(item[0])))
    kept = [(other, match) for other, match in scored[:KEPT_MATCHES] if match.score >= FLOOR]
    if not kept:
        return
    rows = []
    for other, match in kept:
        forward = [[s.left.start, s.left.end, s.right.start, s.right.end] for s in match.spans()]
        backward = sorted([[c, d, a, b] for a, b, c, d in forward])
        score = round(match.score, 4)
        for mine, theirs, spans in ((attempt.id, other, forward), (other, attempt.id, backward)):
            rows.append(
                {
                    "attempt_id": mine,
                    "question_id": question_id,
                    "other_attempt_id": theirs,
                    "score": score,
                    "spans": spans,
                    "method": match.method.value,
                }
            )
    statement = insert(MatchRow)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[MatchRow.attempt_id, MatchRow.question_id, MatchRow.other_attempt_id],
            set_={
                "score": statement.excluded.score,
                "spans": statement.excluded.spans,
                "method": statement.excluded.method,
            },
        ),
        rows,
    )
    await _rescore(session, [attempt.id, *(other for other, _ in kept)], question_id)
