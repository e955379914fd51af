"""What a model is trained from: each completed enrollment's features at weekly reference dates
(standing taken within its cohort at each), labelled with how it ended."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from subgraphs.analytics.at_risk.features import Features, cohort_features
from subgraphs.analytics.at_risk.inputs import Enrollment


@dataclass(frozen=True, slots=True)
class Outcome:
    """A completed enrollment and how it ended."""

    enrollment_id: str
    enrollment: Enrollment
    at_risk: bool  # did not complete, or failed


@dataclass(frozen=True, slots=True)
class Example:
    enrollment_id: str
    features: Features
    at_risk: bool


def end_of_week(start: date, week: int) -> date:
    """The last day of the course's `week` (1 for the first)."""
    return start + timedelta(weeks=week, days=-1)


def weekly(start: date, end: date, first_week: int = 2) -> Iterator[date]:
    """The last day of every week of the course from `first_week` on, before `end`."""
    day = end_of_week(start, first_week)
    while day < end:
        yield day
        day += timedelta(weeks=1)


def examples(cohort: Sequence[Outcome], days: Iterable[date]) -> list[Example]:
    """Every enrollment of one cohort at every one of `days`, its standing taken among them."""
    made: list[Example] = []
    for day in days:
        snapshot = cohort_features([o.enrollment for o in cohort], day)
        made.extend(
            Example(o.enrollment_id, f, o.at_risk) for o, f in zip(cohort, snapshot, strict=True)
        )
    return made
