"""A simulated institution for measuring the at-risk model (bench/at_risk.py, the tests):
learners with a latent engagement and ability, generating daily activity, assessment results
and an outcome, in several courses with schedules. Deterministic from a seed.

Each learner's engagement starts near a personal level (correlated with ability), drifts down
at a personal rate, takes shocks (a busy week, an illness) and sometimes recovers; below a
floor for a week the learner drops out silently and does nothing more. On a day the learner
is active they view lessons, spend time, complete lessons (faster when behind the schedule)
and take the week's quiz if one is due; quiz scores follow ability, the course's difficulty
and how far behind they are. The outcome: completed (80 % of the lessons) with a final grade
of 50 % or more (quizzes, missed ones as 0, and a final exam); a small share of outcomes
goes the other way for reasons no data shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from subgraphs.analytics.at_risk.inputs import (
    AssessmentResult,
    CourseSchedule,
    DailyActivity,
    Enrollment,
    Milestone,
)
from subgraphs.analytics.at_risk.snapshots import Example, Outcome, end_of_week, examples, weekly

FIRST_START = date(2026, 1, 5)  # a Monday
PASS_GRADE = 0.5
COMPLETION = 0.8
DROPOUT_FLOOR = -1.6
DROPOUT_DAYS = 7
OUTCOME_NOISE = 0.03


@dataclass(frozen=True, slots=True)
class SimulatedCourse:
    course_id: str
    schedule: CourseSchedule
    lessons: int
    weeks: int
    difficulty: float


@dataclass(frozen=True, slots=True)
class SimulatedEnrollment:
    learner_id: str
    course: SimulatedCourse
    enrollment: Enrollment
    at_risk: bool  # did not complete, or failed
    ability: float
    dropped_on: date | None


def courses(rng: np.random.Generator, count: int) -> list[SimulatedCourse]:
    """Courses of 6 to 12 weeks, four lessons a week; every third front-loads its lessons."""
    made = []
    for index in range(count):
        weeks = int(rng.integers(6, 13))
        start = FIRST_START + timedelta(weeks=int(rng.integers(0, 8)))
        end = start + timedelta(weeks=weeks)
        milestones: tuple[Milestone, ...] = ()
        if index % 3 == 2:  # half the lessons in the first third of the course
            milestones = (Milestone(start + timedelta(days=weeks * 7 // 3), 0.5),)
        made.append(
            SimulatedCourse(
                course_id=f"course-{index}",
                schedule=CourseSchedule(start, end, milestones),
                lessons=weeks * 4,
                weeks=weeks,
                difficulty=float(rng.normal(0.0, 0.4)),
            )
        )
    return made


def institution(
    seed: int, learners: int, course_count: int = 4, course_seed: int | None = None
) -> list[SimulatedEnrollment]:
    """`learners` enrollments spread over `course_count` courses, the same for the same seeds:
    the courses from `course_seed` (`seed` when not given), the learners from `seed`."""
    rng = np.random.default_rng(seed)
    offered = courses(
        np.random.default_rng(seed if course_seed is None else course_seed), course_count
    )
    sizes = np.bincount(rng.integers(0, course_count, learners), minlength=course_count)
    made: list[SimulatedEnrollment] = []
    for course, size in zip(offered, sizes, strict=True):
        made.extend(_cohort(rng, course, int(size), first_id=len(made)))
    return made


def _sigmoid(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return result


def _cohort(
    rng: np.random.Generator, course: SimulatedCourse, n: int, first_id: int
) -> list[SimulatedEnrollment]:
    days = course.weeks * 7
    schedule = course.schedule
    ability = rng.normal(0.0, 1.0, n)
    engagement = 0.4 * ability + rng.normal(0.8, 0.9, n)
    decay = np.abs(rng.normal(0.012, 0.015, n))
    done = np.zeros(n)
    low_days = np.zeros(n, dtype=int)
    dropped = np.full(n, -1)
    rows: list[list[DailyActivity]] = [[] for _ in range(n)]
    results: list[list[AssessmentResult]] = [[] for _ in range(n)]
    quiz_scores = np.zeros((n, course.weeks))
    pending = np.ones(n, dtype=bool)
    submitted_on = np.full(n, -1)
    for t in range(days):
        day = schedule.start + timedelta(days=t)
        alive = dropped < 0
        shock = rng.random(n) < 0.012
        recover = (engagement < -0.5) & (rng.random(n) < 0.03)
        engagement += (
            -decay
            + rng.normal(0.0, 0.08, n)
            - shock * rng.uniform(0.6, 1.6, n)
            + recover * rng.uniform(0.6, 1.5, n)
        )
        low_days = np.where(engagement < DROPOUT_FLOOR, low_days + 1, 0)
        dropped = np.where(alive & (low_days >= DROPOUT_DAYS), t, dropped)
        alive = dropped < 0
        weekend = day.weekday() >= 5
        p_active = _sigmoid(-0.2 + 1.3 * engagement) * (0.6 if weekend else 1.0)
        active = alive & (rng.random(n) < p_active)
        expected = schedule.expected_progress(day) * course.lessons
        behind = np.maximum(expected - done, 0.0)
        rate = np.clip(0.9 + 0.35 * behind + 0.3 * engagement, 0.1, 4.0)
        completions = np.minimum(rng.poisson(rate), course.lessons - done) * active
        done += completions
        week, weekday = divmod(t, 7)
        if weekday == 0:
            pending = np.ones(n, dtype=bool)
            submitted_on = np.full(n, -1)
        submits = active & pending & (weekday >= 2) & (rng.random(n) < _sigmoid(1.5 + engagement))
        score = _sigmoid(
            1.1 * ability
            - course.difficulty
            + 1.5 * (done / course.lessons - schedule.expected_progress(day))
            + 1.2
            + rng.normal(0.0, 0.7, n)
        )
        pending &= ~submits
        submitted_on = np.where(submits, t, submitted_on)
        quiz_scores[:, week] = np.where(submits, score, quiz_scores[:, week])
        for i in np.flatnonzero(active).tolist():
            views = int(completions[i] + rng.poisson(1.5 + max(engagement[i], 0.0)))
            attempts = 1 if submits[i] else 0
            rows[i].append(
                DailyActivity(
                    day=day,
                    views=max(views, 1),
                    completions=int(completions[i]),
                    seconds_on_task=int(max(views, 1) * rng.lognormal(np.log(480), 0.5)),
                    attempts=attempts,
                    mean_score=round(float(score[i]), 3) if attempts else None,
                )
            )
        if weekday == 6:
            for i in range(n):
                if submitted_on[i] < 0:
                    results[i].append(AssessmentResult(day))
                else:
                    taken = schedule.start + timedelta(days=int(submitted_on[i]))
                    results[i].append(
                        AssessmentResult(day, taken, round(float(quiz_scores[i, week]), 3))
                    )
    exam = _sigmoid(1.1 * ability - course.difficulty + 1.0 + rng.normal(0.0, 0.8, n))
    exam = np.where(dropped >= 0, 0.0, exam)
    grade = 0.5 * quiz_scores.mean(axis=1) + 0.5 * exam
    succeeded = (done >= COMPLETION * course.lessons) & (grade >= PASS_GRADE)
    flipped = rng.random(n) < OUTCOME_NOISE
    at_risk = ~succeeded ^ flipped
    return [
        SimulatedEnrollment(
            learner_id=f"learner-{first_id + i}",
            course=course,
            enrollment=Enrollment(
                enrolled_on=schedule.start,
                lessons=course.lessons,
                activity=tuple(rows[i]),
                assessments=tuple(results[i]),
                schedule=schedule,
            ),
            at_risk=bool(at_risk[i]),
            ability=float(ability[i]),
            dropped_on=None if dropped[i] < 0 else schedule.start + timedelta(days=int(dropped[i])),
        )
        for i in range(n)
    ]


def snapshots(simulated: Sequence[SimulatedEnrollment], week: int | None = None) -> list[Example]:
    """Every enrollment, course by course, at the end of each week of its course from the
    second (or at the given `week` only), labelled with its outcome."""
    made: list[Example] = []
    for course in sorted({s.course for s in simulated}, key=lambda c: c.course_id):
        cohort = [
            Outcome(s.learner_id, s.enrollment, s.at_risk) for s in simulated if s.course == course
        ]
        start, end = course.schedule.start, course.schedule.end
        days = weekly(start, end) if week is None else [end_of_week(start, week)]
        made.extend(examples(cohort, [d for d in days if d < end]))
    return made
