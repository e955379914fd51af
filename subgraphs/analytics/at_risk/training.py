"""Training the at-risk model from completed enrollments (needs scikit-learn, the `analytics`
extra): their snapshots (snapshots.py), fit by a logistic regression over standardised
features (scikit-learn's StandardScaler and LogisticRegression), measured by cross-validation
grouped by enrollment (no enrollment's snapshots on both sides), stored as coefficients
(model.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from subgraphs.analytics.at_risk.evaluation import auc, brier, calibration_error, calibration_table
from subgraphs.analytics.at_risk.features import FEATURE_NAMES
from subgraphs.analytics.at_risk.model import AtRiskModel
from subgraphs.analytics.at_risk.snapshots import Example

FOLDS = 5
REGULARISATION = 1.0  # LogisticRegression's C


class TrainingError(ValueError):
    """The completed enrollments cannot train a model, with why in one line."""


def _matrix(examples: Sequence[Example]) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([e.features.vector() for e in examples], dtype=np.float64)
    y = np.array([e.at_risk for e in examples], dtype=bool)
    return x, y


def _logistic() -> Any:  # scikit-learn has no types
    return make_pipeline(StandardScaler(), LogisticRegression(C=REGULARISATION, max_iter=1000))


def train(examples: Sequence[Example], trained_at: datetime) -> AtRiskModel:
    """The model fit to all `examples`, its metrics from cross-validation over enrollments."""
    enrollments = {e.enrollment_id: e.at_risk for e in examples}
    at_risk = sum(enrollments.values())
    if min(at_risk, len(enrollments) - at_risk) < FOLDS:
        raise TrainingError(
            f"training needs at least {FOLDS} completed enrollments of each outcome; "
            f"got {at_risk} at risk and {len(enrollments) - at_risk} not"
        )
    x, y = _matrix(examples)
    groups = np.array([e.enrollment_id for e in examples])
    held_out = np.zeros(len(y))
    for fit_rows, test_rows in GroupKFold(n_splits=FOLDS).split(x, y, groups):
        fold = _logistic()
        fold.fit(x[fit_rows], y[fit_rows])
        held_out[test_rows] = fold.predict_proba(x[test_rows])[:, 1]
    pipeline = _logistic()
    pipeline.fit(x, y)
    scaler, regression = pipeline.steps[0][1], pipeline.steps[1][1]
    labels = y.tolist()
    return AtRiskModel(
        trained_at=trained_at,
        training_size=len(enrollments),
        feature_names=FEATURE_NAMES,
        means=tuple(float(v) for v in scaler.mean_),
        scales=tuple(float(v) for v in scaler.scale_),
        coefficients=tuple(float(v) for v in regression.coef_[0]),
        intercept=float(regression.intercept_[0]),
        metrics={
            "snapshots": float(len(examples)),
            "at_risk_share": float(y.mean()),
            "cv_auc": auc(labels, held_out.tolist()),
            "cv_brier": brier(labels, held_out.tolist()),
            "cv_calibration_error": calibration_error(calibration_table(labels, held_out.tolist())),
        },
    )
