"""At-risk prediction on a simulated institution (subgraphs/analytics/at_risk/simulation.py):
the model trained on one cohort of learners, measured on held-out learners of another
simulated institution (another seed), against a recency-only baseline and gradient boosting
in the same run.

1. `--courses` courses (6 to 12 weeks) from `--course-seed`, `--learners` enrollments in
   them from `--train-seed`; snapshots of each at the end of every week from the second,
   labelled with the outcome (did not complete, or failed). The logistic regression
   (training.py) is fit to them.
2. Held-out learners of the same courses from `--test-seed` (as next term's learners of an
   institution's courses): AUC, Brier score, expected calibration error over all snapshots,
   a calibration table (deciles of predicted probability: mean predicted against observed),
   and AUC at the end of weeks 2, 4 and 6. Then the same on learners of other courses
   (courses and learners from `--test-seed`), which the model has not seen either.
3. Compared on the same snapshots: a logistic regression on the days since last activity
   only (the recency baseline), and scikit-learn's HistGradientBoostingClassifier on the
   same features (default settings, and its probabilities calibrated by
   CalibratedClassifierCV, isotonic, 5 folds).

Usage: .venv/bin/python bench/at_risk.py [--learners 2000]   (about 45 s of CPU)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from subgraphs.analytics.at_risk.evaluation import (
    auc,
    brier,
    calibration_error,
    calibration_table,
)
from subgraphs.analytics.at_risk.features import FEATURE_NAMES
from subgraphs.analytics.at_risk.simulation import institution, snapshots
from subgraphs.analytics.at_risk.snapshots import Example
from subgraphs.analytics.at_risk.training import train

WEEKS = (2, 4, 6)
Scorer = Callable[[Sequence[Example]], list[float]]


def matrix(examples: Sequence[Example]) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([e.features.vector() for e in examples])
    return x, np.array([e.at_risk for e in examples])


def fitted(estimator: Any, examples: Sequence[Example], columns: slice) -> Scorer:
    x, y = matrix(examples)
    estimator.fit(x[:, columns], y)

    def score(rows: Sequence[Example]) -> list[float]:
        return [float(p) for p in estimator.predict_proba(matrix(rows)[0][:, columns])[:, 1]]

    return score


def row(
    name: str, score: Scorer, test: Sequence[Example], by_week: dict[int, list[Example]]
) -> str:
    labels = [e.at_risk for e in test]
    p = score(test)
    weeks = " | ".join(
        f"{auc([e.at_risk for e in by_week[w]], score(by_week[w])):.3f}" for w in WEEKS
    )
    ece = calibration_error(calibration_table(labels, p))
    return f"| {name} | {auc(labels, p):.3f} | {brier(labels, p):.3f} | {ece:.3f} | {weeks} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--courses", type=int, default=4)
    parser.add_argument("--course-seed", type=int, default=0)
    parser.add_argument("--train-seed", type=int, default=1)
    parser.add_argument("--test-seed", type=int, default=2)
    args = parser.parse_args()

    started = time.perf_counter()
    trained_on = institution(args.train_seed, args.learners, args.courses, args.course_seed)
    held_out = institution(args.test_seed, args.learners, args.courses, args.course_seed)
    elsewhere = institution(args.test_seed, args.learners, args.courses)
    training = snapshots(trained_on)
    test = {
        "held-out learners, same courses": (
            snapshots(held_out),
            {w: snapshots(held_out, week=w) for w in WEEKS},
            held_out,
        ),
        "held-out learners, other courses": (
            snapshots(elsewhere),
            {w: snapshots(elsewhere, week=w) for w in WEEKS},
            elsewhere,
        ),
    }
    simulated = time.perf_counter() - started

    started = time.perf_counter()
    model = train(training, datetime.now(UTC))
    trained = time.perf_counter() - started
    recency = FEATURE_NAMES.index("days_since_active")
    everything = slice(None)
    scorers: dict[str, Scorer] = {
        "**logistic regression** (the model)": lambda rows: [
            model.probability(e.features) for e in rows
        ],
        "recency only (logistic regression on days since last activity)": fitted(
            LogisticRegression(), training, slice(recency, recency + 1)
        ),
        "gradient boosting (HistGradientBoostingClassifier)": fitted(
            HistGradientBoostingClassifier(random_state=0), training, everything
        ),
        "gradient boosting, calibrated (isotonic)": fitted(
            CalibratedClassifierCV(
                HistGradientBoostingClassifier(random_state=0), method="isotonic", cv=5
            ),
            training,
            everything,
        ),
    }

    print(
        f"train: {len(trained_on)} enrollments (courses seed {args.course_seed}, learners seed "
        f"{args.train_seed}), {len(training)} snapshots, "
        f"{np.mean([s.at_risk for s in trained_on]):.1%} at risk; "
        f"simulated in {simulated:.1f} s, trained in {trained:.1f} s"
    )
    print(f"model {model.version}: cross-validated {model.metrics}")
    for title, (rows, by_week, enrollments) in test.items():
        print()
        print(
            f"{title}: {len(enrollments)} enrollments (seed {args.test_seed}), {len(rows)} "
            f"snapshots, {np.mean([s.at_risk for s in enrollments]):.1%} at risk"
        )
        print()
        print("| model | AUC | Brier | ECE | " + " | ".join(f"AUC week {w}" for w in WEEKS) + " |")
        print("| --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in WEEKS) + " |")
        for name, score in scorers.items():
            print(row(name, score, rows, by_week))
        print()
        print("Calibration of the model (deciles of predicted probability):")
        print()
        print("| decile | predicted | n | mean predicted | observed at risk |")
        print("| ---: | --- | ---: | ---: | ---: |")
        labels = [e.at_risk for e in rows]
        table = calibration_table(labels, [model.probability(e.features) for e in rows])
        for index, b in enumerate(table, start=1):
            print(
                f"| {index} | {b.lowest:.2f} to {b.highest:.2f} | {b.count} "
                f"| {b.predicted:.3f} | {b.observed:.3f} |"
            )
    print()
    print("Coefficients (log-odds per standard deviation):")
    for name, coefficient in zip(model.feature_names, model.coefficients, strict=True):
        print(f"  {name:20} {coefficient:+.2f}")


if __name__ == "__main__":
    main()
