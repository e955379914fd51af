"""Item analysis of an assessment from its graded attempts (classical test theory).

Each learner counts once, with their best graded attempt (as Canvas and Moodle grade by
default). A question's difficulty is the share of the available points learners earned on
it (1.0: everyone right); its discrimination is the point-biserial correlation between
getting it fully right and the attempt's total percentage: near zero or negative means the
question does not separate stronger from weaker learners.
"""

from __future__ import annotations

import math
import statistics
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

BUCKETS = 10  # 0-10 %, 10-20 %, ..., 90-100 %


@dataclass(frozen=True, slots=True)
class ScoredAnswer:
    question_id: uuid.UUID
    points: float
    max_points: float
    correct: bool


@dataclass(frozen=True, slots=True)
class ScoredAttempt:
    user_id: uuid.UUID
    percent: float
    answers: Sequence[ScoredAnswer]


@dataclass(frozen=True, slots=True)
class QuestionStats:
    question_id: uuid.UUID
    answered: int
    difficulty: float
    discrimination: float | None


@dataclass(frozen=True, slots=True)
class AssessmentStats:
    learners: int
    mean: float | None
    median: float | None
    standard_deviation: float | None
    pass_rate: float | None
    distribution: list[int]  # learners per 10-point band of percentage
    questions: list[QuestionStats]


def best_attempts(attempts: Sequence[ScoredAttempt]) -> list[ScoredAttempt]:
    best: dict[uuid.UUID, ScoredAttempt] = {}
    for attempt in attempts:
        current = best.get(attempt.user_id)
        if current is None or attempt.percent > current.percent:
            best[attempt.user_id] = attempt
    return list(best.values())


def point_biserial(flags: Sequence[bool], totals: Sequence[float]) -> float | None:
    """r_pb = (M1 - M0) / s * sqrt(p q): None when it is undefined (everyone alike)."""
    n = len(flags)
    right = [total for flag, total in zip(flags, totals, strict=True) if flag]
    wrong = [total for flag, total in zip(flags, totals, strict=True) if not flag]
    if n < 2 or not right or not wrong:
        return None
    spread = statistics.pstdev(totals)
    if spread == 0:
        return None
    p = len(right) / n
    value = (statistics.fmean(right) - statistics.fmean(wrong)) / spread * math.sqrt(p * (1 - p))
    return round(value, 4)


def _band(percent: float) -> int:
    return min(BUCKETS - 1, max(0, int(percent // (100 / BUCKETS))))


def summarise(attempts: Sequence[ScoredAttempt], passing_score: float) -> AssessmentStats:
    chosen = best_attempts(attempts)
    percents = [attempt.percent for attempt in chosen]
    distribution = [0] * BUCKETS
    for percent in percents:
        distribution[_band(percent)] += 1
    by_question: dict[uuid.UUID, list[tuple[ScoredAnswer, float]]] = {}
    for attempt in chosen:
        for answer in attempt.answers:
            by_question.setdefault(answer.question_id, []).append((answer, attempt.percent))
    questions = []
    for question_id, pairs in by_question.items():
        earned = sum(answer.points for answer, _ in pairs)
        available = sum(answer.max_points for answer, _ in pairs)
        questions.append(
            QuestionStats(
                question_id=question_id,
                answered=len(pairs),
                difficulty=round(earned / available, 4) if available else 0.0,
                discrimination=point_biserial(
                    [answer.correct for answer, _ in pairs], [total for _, total in pairs]
                ),
            )
        )
    return AssessmentStats(
        learners=len(chosen),
        mean=round(statistics.fmean(percents), 2) if percents else None,
        median=round(statistics.median(percents), 2) if percents else None,
        standard_deviation=round(statistics.pstdev(percents), 2) if percents else None,
        pass_rate=(
            round(sum(p >= passing_score for p in percents) / len(percents), 4)
            if percents
            else None
        ),
        distribution=distribution,
        questions=sorted(questions, key=lambda stats: stats.difficulty),
    )
