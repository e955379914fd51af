"""What the at-risk model loses on the inputs the platform has (issue 22): the analytics
store fills the model's inputs from its daily aggregates (subgraphs/analytics/
at_risk_history.py), which know no course schedule and no due dates, only graded attempts.
The same simulated institution as bench/at_risk.py, measured in the same run with

- full inputs: schedule, due dates (missed quizzes), as bench/at_risk.py;
- platform inputs: no schedule (no progress gap, no share of the course gone by) and only
  the quizzes submitted and graded (no missed ones: what the statements hold);
- the recency-only baseline on the platform inputs.

Each model is trained on `--learners` enrollments (seed 1) and measured on as many held-out
learners of the same courses (seed 2): AUC, Brier score, expected calibration error, and AUC
at the end of weeks 2, 4 and 6.

Usage: .venv/bin/python bench/at_risk_platform_inputs.py [--learners 2000]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
from sklearn.linear_model import LogisticRegression

from subgraphs.analytics.at_risk.evaluation import (
    auc,
    brier,
    calibration_error,
    calibration_table,
)
from subgraphs.analytics.at_risk.features import FEATURE_NAMES
from subgraphs.analytics.at_risk.inputs import AssessmentResult
from subgraphs.analytics.at_risk.simulation import SimulatedEnrollment, institution, snapshots
from subgraphs.analytics.at_risk.snapshots import Example
from subgraphs.analytics.at_risk.training import train

WEEKS = (2, 4, 6)


def as_platform_sees(simulated: Sequence[SimulatedEnrollment]) -> list[SimulatedEnrollment]:
    """Each enrollment without its schedule, its quizzes only where graded (on that day)."""
    return [
        dataclasses.replace(
            s,
            enrollment=dataclasses.replace(
                s.enrollment,
                schedule=None,
                assessments=tuple(
                    AssessmentResult(a.submitted, a.submitted, a.score)
                    for a in s.enrollment.assessments
                    if a.submitted is not None and a.score is not None
                ),
            ),
        )
        for s in simulated
    ]


def measured(
    name: str,
    probabilities: list[float],
    rows: Sequence[Example],
    weeks: dict[int, tuple[list[bool], list[float]]],
) -> str:
    labels = [e.at_risk for e in rows]
    ece = calibration_error(calibration_table(labels, probabilities))
    by_week = " | ".join(f"{auc(*weeks[w]):.3f}" for w in WEEKS)
    return (
        f"| {name} | {auc(labels, probabilities):.3f} | {brier(labels, probabilities):.3f} "
        f"| {ece:.3f} | {by_week} |"
    )


def _recency(rows: Sequence[Example], column: int) -> np.ndarray:
    return np.array([[e.features.vector()[column]] for e in rows])


def _scored(baseline: LogisticRegression, rows: Sequence[Example], column: int) -> list[float]:
    return [float(v) for v in baseline.predict_proba(_recency(rows, column))[:, 1]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=2000)
    args = parser.parse_args()
    started = time.perf_counter()
    trained_on = institution(1, args.learners, 4, 0)
    held_out = institution(2, args.learners, 4, 0)
    print(
        f"{len(trained_on)} enrollments to train on, {len(held_out)} held out "
        f"({np.mean([s.at_risk for s in held_out]):.1%} at risk)"
    )
    print()
    print(
        "| inputs, model | AUC | Brier | ECE | " + " | ".join(f"AUC week {w}" for w in WEEKS) + " |"
    )
    print("| --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in WEEKS) + " |")
    recency = FEATURE_NAMES.index("days_since_active")
    for label, shape in (("full", list), ("platform", as_platform_sees)):
        training = snapshots(shape(trained_on))
        test = snapshots(shape(held_out))
        model = train(training, datetime.now(UTC))
        scored = [model.probability(e.features) for e in test]
        weeks = {}
        for w in WEEKS:
            rows = snapshots(shape(held_out), week=w)
            weeks[w] = ([e.at_risk for e in rows], [model.probability(e.features) for e in rows])
        print(
            measured(
                f"{label}: logistic regression (cv AUC {model.metrics['cv_auc']:.3f})",
                scored,
                test,
                weeks,
            )
        )
        if label == "platform":
            baseline = LogisticRegression()
            baseline.fit(_recency(training, recency), [e.at_risk for e in training])
            recency_weeks = {}
            for w in WEEKS:
                rows = snapshots(shape(held_out), week=w)
                recency_weeks[w] = ([e.at_risk for e in rows], _scored(baseline, rows, recency))
            print(
                measured(
                    "platform: recency only",
                    _scored(baseline, test, recency),
                    test,
                    recency_weeks,
                )
            )
    print()
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
