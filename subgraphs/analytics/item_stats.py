"""Item analysis from additive sums: a question's difficulty (its p-value, the share of
correct answers) and discrimination (the point-biserial correlation between answering it
correctly and the attempt's total score), over any span of days, from per-day sums alone so
that they are never recomputed from the answers."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ItemSums:
    """Sums over a question's graded answers: how many, correct, their scaled points, and
    the attempts' scaled totals (Σt, Σt², Σt of the correct answers)."""

    answers: int = 0
    correct: int = 0
    score_sum: float = 0.0
    total_sum: float = 0.0
    total_squares: float = 0.0
    correct_total_sum: float = 0.0

    def __add__(self, other: ItemSums) -> ItemSums:
        return ItemSums(
            self.answers + other.answers,
            self.correct + other.correct,
            self.score_sum + other.score_sum,
            self.total_sum + other.total_sum,
            self.total_squares + other.total_squares,
            self.correct_total_sum + other.correct_total_sum,
        )

    @property
    def mean_score(self) -> float | None:
        return self.score_sum / self.answers if self.answers else None

    @property
    def share_correct(self) -> float | None:
        """Also the classical difficulty index (p-value): higher is easier."""
        return self.correct / self.answers if self.answers else None

    @property
    def discrimination(self) -> float | None:
        """Point-biserial r = (M1 - M0) / s · √(p·q), with M1 and M0 the mean totals of the
        attempts that answered correctly and not, s the totals' standard deviation (of the
        population) and p the share correct. None when undefined: under two answers, all
        right or all wrong, or every total equal. The total includes the item itself (the
        uncorrected coefficient), as most LMS reports give it."""
        n, right = self.answers, self.correct
        if n < 2 or right in (0, n):
            return None
        mean = self.total_sum / n
        variance = self.total_squares / n - mean * mean
        if variance <= 1e-12:
            return None
        p = right / n
        mean_right = self.correct_total_sum / right
        mean_wrong = (self.total_sum - self.correct_total_sum) / (n - right)
        r = (mean_right - mean_wrong) / math.sqrt(variance) * math.sqrt(p * (1 - p))
        return max(-1.0, min(1.0, r))
