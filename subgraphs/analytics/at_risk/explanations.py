"""Why a learner is at risk, in words: the features whose contributions (model.py) push the
probability up the most, each said as the fact it stands for ("not seen for 12 days",
"3 of 5 assessments below 50 %", "progress 30 % behind the schedule"). A feature that lowers
the risk, or whose value is no cause for concern, gives no reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from subgraphs.analytics.at_risk.features import Features, cohort_features
from subgraphs.analytics.at_risk.inputs import Enrollment
from subgraphs.analytics.at_risk.model import AtRiskModel

TOP_REASONS = 3
MIN_CONTRIBUTION = 0.05  # log-odds below which a feature is no reason
BEHIND = 0.05  # progress behind the schedule that is worth a word


@dataclass(frozen=True, slots=True)
class Reason:
    feature: str
    contribution: float  # to the log-odds
    text: str


@dataclass(frozen=True, slots=True)
class Prediction:
    probability: float
    reasons: tuple[Reason, ...]  # strongest first


def _percent(share: float) -> str:
    return f"{round(share * 100)} %"


def _recency(f: Features) -> str | None:
    if f.never_active:
        return f"no activity in the {f.days_since_active} days since enrolling"
    if f.days_since_active < 3:
        return None
    return f"not seen for {f.days_since_active} days"


def _days(window: int) -> Callable[[Features], str | None]:
    def said(f: Features) -> str | None:
        active = f.active_days_14 if window == 14 else f.active_days_28
        return f"active on {active} of the last {window} days" if active <= window // 2 else None

    return said


# Each feature the model reads, and how it is said when it is a reason (None: not a concern).
WORDS: dict[str, Callable[[Features], str | None]] = {
    "days_since_active": _recency,
    "active_days_14": _days(14),
    "active_days_28": _days(28),
    "hours_on_task_28": lambda f: f"{f.hours_on_task_28:.1f} hours on task in the last 28 days",
    "progress_gap": lambda f: (
        f"progress {_percent(f.progress_gap)} behind the schedule"
        if f.progress_gap >= BEHIND
        else None
    ),
    "assessment_mean": lambda f: (
        f"mean assessment score {_percent(f.assessment_mean)}" if f.scored else None
    ),
    "share_below_half": lambda f: (
        f"{f.below_half} of {f.scored} assessments below 50 %" if f.below_half else None
    ),
    "missed_share": lambda f: (
        f"{f.missed} of {f.due} assessments due not submitted" if f.missed else None
    ),
    "cohort_percentile": lambda f: (
        f"progress behind {_percent(1 - f.cohort_percentile)} of the cohort"
        if f.cohort_percentile < 0.5
        else None
    ),
    "course_elapsed": lambda f: None,  # context for the others, never a cause
}


def reasons(model: AtRiskModel, features: Features, top: int = TOP_REASONS) -> tuple[Reason, ...]:
    """The `top` strongest reasons that push towards risk, strongest first."""
    found = []
    for name, contribution in model.contributions(features).items():
        text = WORDS[name](features) if contribution >= MIN_CONTRIBUTION else None
        if text is not None:
            found.append(Reason(name, contribution, text))
    found.sort(key=lambda r: r.contribution, reverse=True)
    return tuple(found[:top])


def predict(model: AtRiskModel, features: Features) -> Prediction:
    return Prediction(model.probability(features), reasons(model, features))


def predict_cohort(
    model: AtRiskModel, enrollments: Sequence[Enrollment], day: date
) -> list[Prediction]:
    """A prediction for each active enrollment of one cohort at the end of `day`, in order."""
    return [predict(model, f) for f in cohort_features(enrollments, day)]
