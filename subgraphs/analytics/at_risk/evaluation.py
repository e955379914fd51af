"""How well probabilities of risk match outcomes: AUC, Brier score and a calibration table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    lowest: float  # the bin's lowest and highest predicted probability
    highest: float
    count: int
    predicted: float  # mean predicted probability
    observed: float  # share at risk


def auc(labels: Sequence[bool], probabilities: Sequence[float]) -> float:
    return float(roc_auc_score(np.asarray(labels, dtype=bool), np.asarray(probabilities)))


def brier(labels: Sequence[bool], probabilities: Sequence[float]) -> float:
    return float(brier_score_loss(np.asarray(labels, dtype=bool), np.asarray(probabilities)))


def calibration_table(
    labels: Sequence[bool], probabilities: Sequence[float], bins: int = 10
) -> list[CalibrationBin]:
    """Predictions in `bins` groups of equal size by predicted probability (deciles by
    default), each with its mean prediction and its observed share at risk."""
    order = np.argsort(np.asarray(probabilities), kind="stable")
    p = np.asarray(probabilities)[order]
    y = np.asarray(labels, dtype=np.float64)[order]
    return [
        CalibrationBin(
            float(p[part[0]]),
            float(p[part[-1]]),
            len(part),
            float(p[part].mean()),
            float(y[part].mean()),
        )
        for part in np.array_split(np.arange(len(p)), bins)
        if len(part)
    ]


def calibration_error(table: Sequence[CalibrationBin]) -> float:
    """Expected calibration error: the bins' |predicted - observed|, weighted by their size."""
    total = sum(b.count for b in table)
    return sum(b.count * abs(b.predicted - b.observed) for b in table) / total if total else 0.0
