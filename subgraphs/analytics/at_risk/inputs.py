"""What the at-risk model reads about one enrollment, as plain values: its daily activity, its
assessment results, the course's schedule and the cohort it is measured against. The analytics
subgraph fills them from its daily aggregates; the simulation (simulation.py) makes them up.

Every value is checked where it is made, so a feature is never computed from a negative count,
a score outside 0..1 or NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from itertools import pairwise


class InputError(ValueError):
    """A value the model cannot read, with what was wrong in one line."""


def _count(name: str, value: int) -> None:
    if value < 0:
        raise InputError(f"{name} must be 0 or more, not {value}")


def _share(name: str, value: float) -> None:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InputError(f"{name} must be a number from 0 to 1, not {value}")


@dataclass(frozen=True, slots=True)
class DailyActivity:
    """One day of one enrollment: what the analytics subgraph aggregates per user, course, day."""

    day: date
    views: int = 0
    completions: int = 0  # lessons completed that day
    seconds_on_task: int = 0
    attempts: int = 0
    mean_score: float | None = None  # mean score of that day's attempts, 0..1

    def __post_init__(self) -> None:
        _count("views", self.views)
        _count("completions", self.completions)
        _count("seconds_on_task", self.seconds_on_task)
        _count("attempts", self.attempts)
        if self.mean_score is not None:
            _share("mean_score", self.mean_score)

    @property
    def active(self) -> bool:
        return bool(self.views or self.completions or self.seconds_on_task or self.attempts)


@dataclass(frozen=True, slots=True)
class AssessmentResult:
    """A graded assessment of the course for this learner: submitted or not, scored or not."""

    due: date
    submitted: date | None = None
    score: float | None = None  # 0..1 once graded

    def __post_init__(self) -> None:
        if self.score is not None:
            _share("score", self.score)
            if self.submitted is None:
                raise InputError("an assessment with a score must have a submission date")


@dataclass(frozen=True, slots=True)
class Milestone:
    day: date
    expected_progress: float  # share of the course's lessons completed by that day

    def __post_init__(self) -> None:
        _share("expected_progress", self.expected_progress)


@dataclass(frozen=True, slots=True)
class CourseSchedule:
    """The course's dates; progress is expected to follow the milestones (interpolated between
    them, from 0 at the start to 1 at the end), or to grow evenly when there are none."""

    start: date
    end: date
    milestones: tuple[Milestone, ...] = ()

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InputError(f"the course ends ({self.end}) before it starts ({self.start})")
        days = [m.day for m in self.milestones]
        if days != sorted(set(days)):
            raise InputError("milestones must be in date order, one per day")
        if any(not self.start <= d <= self.end for d in days):
            raise InputError("milestones must fall between the course's start and end")
        shares = [m.expected_progress for m in self.milestones]
        if shares != sorted(shares):
            raise InputError("expected progress must not decrease from one milestone to the next")

    def elapsed(self, day: date) -> float:
        """Share of the course's time gone by at the end of `day`, 0..1."""
        total = (self.end - self.start).days
        return min(max((day - self.start).days / total, 0.0), 1.0)

    def expected_progress(self, day: date) -> float:
        points = [
            (self.start, 0.0),
            *((m.day, m.expected_progress) for m in self.milestones),
            (self.end, 1.0),
        ]
        if day <= self.start:
            return 0.0
        for (d0, p0), (d1, p1) in pairwise(points):
            if day <= d1:
                span = (d1 - d0).days
                return p1 if span == 0 else p0 + (p1 - p0) * (day - d0).days / span
        return 1.0


@dataclass(frozen=True, slots=True)
class Enrollment:
    """One learner's enrollment in one course, with everything recorded about it so far (rows
    after the reference date are ignored when features are computed, so none leak in)."""

    enrolled_on: date
    lessons: int  # lessons in the course; 0 when unknown
    activity: tuple[DailyActivity, ...] = ()
    assessments: tuple[AssessmentResult, ...] = ()
    schedule: CourseSchedule | None = None

    def __post_init__(self) -> None:
        _count("lessons", self.lessons)
