"""The at-risk features of one enrollment, against values worked out by hand, and what they
are when the input is empty, partial or wrong."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest

from subgraphs.analytics.at_risk.features import RECENCY_CAP_DAYS, features, percentile
from subgraphs.analytics.at_risk.inputs import (
    AssessmentResult,
    CourseSchedule,
    DailyActivity,
    Enrollment,
    InputError,
    Milestone,
)

START = date(2026, 3, 2)
DAY = START + timedelta(days=14)  # 16 March: half of a four-week course gone by
SCHEDULE = CourseSchedule(START, START + timedelta(days=28))


def on(day: int) -> date:
    return START + timedelta(days=day)


ENROLLMENT = Enrollment(
    enrolled_on=START,
    lessons=10,
    activity=(
        DailyActivity(on(1), views=2, completions=1, seconds_on_task=1800),
        DailyActivity(
            on(3), views=1, completions=2, seconds_on_task=900, attempts=1, mean_score=0.4
        ),
        DailyActivity(on(8), views=3, seconds_on_task=3600),
        DailyActivity(on(18), views=9, completions=5, seconds_on_task=9000),  # after DAY
    ),
    assessments=(
        AssessmentResult(due=on(6), submitted=on(3), score=0.4),
        AssessmentResult(due=on(13)),  # missed
        AssessmentResult(due=on(14)),  # due on DAY itself: not missed yet
        AssessmentResult(due=on(20)),  # not due yet
    ),
    schedule=SCHEDULE,
)


def test_features_of_a_learner_falling_behind() -> None:
    got = features(ENROLLMENT, DAY, cohort_progress=[0.1, 0.3, 0.5, 0.7])
    assert got.days_since_active == 6  # last seen on 10 March
    assert not got.never_active
    assert (got.active_days_14, got.active_days_28) == (3, 3)
    assert got.hours_on_task_28 == pytest.approx((1800 + 900 + 3600) / 3600)
    assert got.progress == pytest.approx(0.3)  # 3 of 10 lessons; the 5 of 20 March not yet
    assert got.progress_gap == pytest.approx(0.5 - 0.3)
    assert (got.assessment_mean, got.scored, got.below_half) == (0.4, 1, 1)
    assert (got.due, got.missed) == (2, 1)
    assert got.cohort_percentile == pytest.approx((1 + 0.5) / 4)  # ahead of 0.1, level with 0.3
    assert got.course_elapsed == pytest.approx(0.5)
    assert got.vector() == pytest.approx(
        (math.log1p(6), 3, 3, math.log1p(1.75), 0.2, 0.4, 1.0, 0.5, 0.375, 0.5)
    )


def test_windows_count_days_not_rows_and_end_on_the_reference_date() -> None:
    rows = (
        DailyActivity(DAY, views=1),
        DailyActivity(DAY, views=2),  # a second row of the same day
        DailyActivity(DAY - timedelta(days=13), views=1),  # the 14-day window's first day
        DailyActivity(DAY - timedelta(days=14), views=1),  # outside it, inside 28 days
        DailyActivity(DAY - timedelta(days=5)),  # nothing done: not an active day
    )
    got = features(Enrollment(START, 10, rows, schedule=SCHEDULE), DAY, [])
    assert (got.days_since_active, got.active_days_14, got.active_days_28) == (0, 2, 3)


def test_progress_follows_the_schedules_milestones() -> None:
    front_loaded = CourseSchedule(SCHEDULE.start, SCHEDULE.end, (Milestone(on(7), 0.5),))
    assert front_loaded.expected_progress(on(7)) == 0.5
    assert front_loaded.expected_progress(on(14)) == pytest.approx(0.5 + 0.5 * 7 / 21)
    assert front_loaded.expected_progress(on(-3)) == 0.0
    assert front_loaded.expected_progress(on(40)) == 1.0
    enrollment = Enrollment(START, 10, ENROLLMENT.activity, schedule=front_loaded)
    assert features(enrollment, DAY, []).progress_gap == pytest.approx(0.5 + 0.5 * 7 / 21 - 0.3)


def test_assessment_mean_falls_back_to_practice_attempts_then_to_neutral() -> None:
    rows = (
        DailyActivity(on(1), attempts=2, mean_score=0.8),
        DailyActivity(on(2), attempts=1, mean_score=0.2),
    )
    practised = features(Enrollment(START, 10, rows, schedule=SCHEDULE), DAY, [])
    assert practised.assessment_mean == pytest.approx(0.6)
    assert practised.scored == 0
    assert features(Enrollment(START, 10, schedule=SCHEDULE), DAY, []).assessment_mean == 0.5


def test_a_learner_never_active_is_counted_from_enrolling_and_capped() -> None:
    late = Enrollment(enrolled_on=on(4), lessons=10, schedule=SCHEDULE)
    got = features(late, DAY, [0.0, 0.2])
    assert (got.never_active, got.days_since_active) == (True, 10)
    assert got.progress_gap == pytest.approx(0.5)
    assert got.cohort_percentile == pytest.approx(0.25)
    long_gone = features(late, on(200), [])
    assert long_gone.days_since_active == RECENCY_CAP_DAYS
    assert long_gone.course_elapsed == 1.0


def test_empty_input_and_no_schedule_give_finite_neutral_features() -> None:
    bare = Enrollment(enrolled_on=START, lessons=0)
    got = features(bare, START - timedelta(days=3), [])  # before it even began
    assert got.days_since_active == 0
    assert (got.progress, got.progress_gap, got.cohort_percentile) == (0.0, 0.0, 0.5)
    assert got.course_elapsed == 0.5
    assert all(math.isfinite(v) for v in got.vector())
    unscheduled = Enrollment(START, 10, ENROLLMENT.activity, ENROLLMENT.assessments)
    got = features(unscheduled, DAY, [0.3])
    assert (got.progress, got.progress_gap, got.course_elapsed) == (0.3, 0.0, 0.5)
    assert all(math.isfinite(v) for v in got.vector())


def test_percentile_is_mid_rank() -> None:
    assert percentile(0.5, []) == 0.5
    assert percentile(0.5, [0.5, 0.5]) == 0.5
    assert percentile(1.0, [0.0, 0.2, 0.9]) == 1.0
    assert percentile(0.0, [0.0, 0.2, 0.9]) == pytest.approx(1 / 6)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: DailyActivity(START, views=-1), "views must be 0 or more, not -1"),
        (lambda: DailyActivity(START, attempts=1, mean_score=1.5), "mean_score must be a number"),
        (lambda: AssessmentResult(START, START, math.nan), "score must be a number from 0 to 1"),
        (lambda: AssessmentResult(START, None, 0.5), "must have a submission date"),
        (lambda: CourseSchedule(START, START), "ends (2026-03-02) before it starts"),
        (
            lambda: CourseSchedule(START, on(28), (Milestone(on(9), 0.6), Milestone(on(8), 0.7))),
            "in date order",
        ),
        (
            lambda: CourseSchedule(START, on(28), (Milestone(on(8), 0.6), Milestone(on(9), 0.5))),
            "must not decrease",
        ),
        (lambda: CourseSchedule(START, on(28), (Milestone(on(30), 0.6),)), "between the course"),
        (lambda: Milestone(START, -0.1), "expected_progress must be a number from 0 to 1"),
        (lambda: Enrollment(START, lessons=-2), "lessons must be 0 or more"),
    ],
)
def test_values_the_model_cannot_read_are_refused_with_what_was_wrong(
    make: Callable[[], object], message: str
) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        make()
