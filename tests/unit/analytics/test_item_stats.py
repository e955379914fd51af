"""Item analysis from additive sums: the point-biserial from the per-day sums equals
Pearson's r of the answers' correctness and the attempts' totals, over any split into days."""

from __future__ import annotations

import random
import statistics

import pytest

from subgraphs.analytics.item_stats import ItemSums


def _sums(answers: list[tuple[bool, float]]) -> ItemSums:
    return ItemSums(
        answers=len(answers),
        correct=sum(right for right, _ in answers),
        score_sum=float(sum(right for right, _ in answers)),
        total_sum=sum(total for _, total in answers),
        total_squares=sum(total * total for _, total in answers),
        correct_total_sum=sum(total for right, total in answers if right),
    )


def test_discrimination_from_daily_sums_is_the_point_biserial_of_all_answers() -> None:
    draw = random.Random(22)
    answers = []
    for _ in range(200):
        ability = draw.random()
        answers.append((draw.random() < ability, min(1.0, max(0.0, ability + draw.gauss(0, 0.1)))))
    days = [_sums(answers[start : start + 37]) for start in range(0, len(answers), 37)]
    overall = sum(days, ItemSums())
    expected = statistics.correlation([float(r) for r, _ in answers], [t for _, t in answers])
    assert overall.discrimination == pytest.approx(expected, abs=1e-9)
    assert overall.discrimination is not None
    assert overall.discrimination > 0.3
    share = sum(r for r, _ in answers) / len(answers)
    assert overall.share_correct == pytest.approx(share)
    assert overall.mean_score == pytest.approx(share)


def test_a_question_that_tells_no_one_apart_has_no_discrimination() -> None:
    assert ItemSums().discrimination is None
    assert ItemSums().share_correct is None
    assert _sums([(True, 0.9)]).discrimination is None  # one answer
    assert _sums([(True, 0.9), (True, 0.4)]).discrimination is None  # all right
    assert _sums([(False, 0.9), (False, 0.4)]).discrimination is None  # all wrong
    assert _sums([(True, 0.5), (False, 0.5)]).discrimination is None  # equal totals
    inverted = _sums([(True, 0.1), (False, 0.9), (True, 0.2), (False, 0.8)])
    assert inverted.discrimination is not None
    assert inverted.discrimination < -0.9
