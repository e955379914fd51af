"""Engagement features of one enrollment at a reference date (the end of that day), pure
functions of the inputs (inputs.py): recency, frequency, time on task, progress against the
schedule, assessment results and standing in the cohort.

Every feature is a finite number whatever the input: a learner never active, a course with no
schedule or no lessons, an empty cohort each give a neutral value, never NaN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from subgraphs.analytics.at_risk.inputs import DailyActivity, Enrollment

# The order of a model's coefficients: a stored model whose names differ is refused.
FEATURE_NAMES = (
    "days_since_active",
    "active_days_14",
    "active_days_28",
    "hours_on_task_28",
    "progress_gap",
    "assessment_mean",
    "share_below_half",
    "missed_share",
    "cohort_percentile",
    "course_elapsed",
)
RECENCY_CAP_DAYS = 60  # a learner gone for two months is as gone as one gone for six
NEUTRAL_SCORE = 0.5  # the assessment mean of a learner with nothing graded yet
NEUTRAL_ELAPSED = 0.5  # the share of the course gone by when the course has no schedule
LOW_SCORE = 0.5


@dataclass(frozen=True, slots=True)
class Features:
    days_since_active: int  # since the last active day, or since enrolling when never active
    never_active: bool
    active_days_14: int  # days with any activity among the 14 ending on the reference date
    active_days_28: int
    hours_on_task_28: float
    progress: float  # share of the course's lessons completed, 0..1
    progress_gap: float  # expected minus actual progress: above 0 is behind the schedule
    assessment_mean: float  # mean score of what was graded, 0..1
    scored: int  # assessments graded by the reference date
    below_half: int  # of those, scored under 50 %
    due: int  # assessments due before the reference date
    missed: int  # of those, not submitted by the reference date
    cohort_percentile: float  # share of the cohort this learner's progress is ahead of, 0..1
    course_elapsed: float

    def vector(self) -> tuple[float, ...]:
        """The model's inputs, in FEATURE_NAMES' order (counts of days on a log scale)."""
        return (
            math.log1p(self.days_since_active),
            float(self.active_days_14),
            float(self.active_days_28),
            math.log1p(self.hours_on_task_28),
            self.progress_gap,
            self.assessment_mean,
            self.below_half / self.scored if self.scored else 0.0,
            self.missed / self.due if self.due else 0.0,
            self.cohort_percentile,
            self.course_elapsed,
        )


def progress(enrollment: Enrollment, day: date) -> float:
    """Share of the course's lessons completed by the end of `day` (0 when the count is unknown)."""
    if enrollment.lessons == 0:
        return 0.0
    done = sum(row.completions for row in enrollment.activity if row.day <= day)
    return min(done / enrollment.lessons, 1.0)


def percentile(value: float, cohort: Sequence[float]) -> float:
    """Mid-rank percentile of `value` in `cohort`: the share below it plus half the share equal
    to it; 0.5 for an empty cohort."""
    if not cohort:
        return 0.5
    below = sum(1 for v in cohort if v < value)
    equal = sum(1 for v in cohort if v == value)
    return (below + equal / 2) / len(cohort)


def features(enrollment: Enrollment, day: date, cohort_progress: Sequence[float]) -> Features:
    """The features at the end of `day`; `cohort_progress` is the progress of the learners it is
    compared with (its cohort, the learner among them or not) at the same date."""
    rows = [row for row in enrollment.activity if row.day <= day and row.active]
    active_days = {row.day for row in rows}
    schedule = enrollment.schedule
    began = max(enrollment.enrolled_on, schedule.start) if schedule else enrollment.enrolled_on
    last = max(active_days, default=None)
    since = (day - last).days if last else max((day - began).days, 0)
    window_28 = [row for row in rows if row.day > day - timedelta(days=28)]
    done = progress(enrollment, day)
    expected = schedule.expected_progress(day) if schedule and enrollment.lessons else done
    graded = [
        a.score
        for a in enrollment.assessments
        if a.score is not None and a.submitted is not None and a.submitted <= day
    ]
    due = [a for a in enrollment.assessments if a.due < day]
    missed = [a for a in due if a.submitted is None or a.submitted > day]
    return Features(
        days_since_active=min(since, RECENCY_CAP_DAYS),
        never_active=last is None,
        active_days_14=sum(1 for d in active_days if d > day - timedelta(days=14)),
        active_days_28=len({row.day for row in window_28}),
        hours_on_task_28=sum(row.seconds_on_task for row in window_28) / 3600,
        progress=done,
        progress_gap=expected - done,
        assessment_mean=_mean_score(graded, rows),
        scored=len(graded),
        below_half=sum(1 for s in graded if s < LOW_SCORE),
        due=len(due),
        missed=len(missed),
        cohort_percentile=percentile(done, cohort_progress),
        course_elapsed=schedule.elapsed(day) if schedule else NEUTRAL_ELAPSED,
    )


def _mean_score(graded: Sequence[float], rows: Sequence[DailyActivity]) -> float:
    """Graded assessments first; else the days' attempt scores (practice), weighted by
    attempts; else neutral."""
    if graded:
        return sum(graded) / len(graded)
    weighted = [(r.mean_score, r.attempts) for r in rows if r.mean_score is not None]
    attempts = sum(n for _, n in weighted)
    if attempts == 0:
        return NEUTRAL_SCORE
    return sum(score * n for score, n in weighted) / attempts


def cohort_features(enrollments: Sequence[Enrollment], day: date) -> list[Features]:
    """Features of every enrollment of one cohort at `day`, each compared with all of them."""
    cohort = [progress(e, day) for e in enrollments]
    return [features(e, day, cohort) for e in enrollments]
