"""The at-risk model as stored: a logistic regression over standardised features, its
version, when and on how much it was trained and how well it measured, as JSON (a database
row can hold it, and loading it runs no code, unlike a pickle). Scoring needs numpy only;
training (training.py) needs scikit-learn.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from subgraphs.analytics.at_risk.features import FEATURE_NAMES, Features

MODEL_FORMAT = "lms.at-risk.logistic-regression/1"


class ModelFileError(ValueError):
    """A stored model this code cannot use, with why in one line."""


@dataclass(frozen=True, slots=True)
class AtRiskModel:
    trained_at: datetime
    training_size: int  # enrollments it was trained from
    feature_names: tuple[str, ...]
    means: tuple[float, ...]  # the standardisation: z = (x - mean) / scale
    scales: tuple[float, ...]
    coefficients: tuple[float, ...]  # log-odds per standard deviation of each feature
    intercept: float
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """Names this training: a digest of everything stored but the version itself."""
        described = json.dumps(self._fields(), sort_keys=True)
        return hashlib.sha256(described.encode()).hexdigest()[:16]

    def _fields(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "trained_at": self.trained_at.isoformat(),
            "training_size": self.training_size,
            "feature_names": list(self.feature_names),
            "means": list(self.means),
            "scales": list(self.scales),
            "coefficients": list(self.coefficients),
            "intercept": self.intercept,
            "metrics": self.metrics,
        }

    def contributions(self, features: Features) -> dict[str, float]:
        """Each feature's share of the log-odds: coefficient * standardised value (above 0
        pushes towards risk)."""
        values = features.vector()
        return {
            name: coefficient * (value - mean) / scale
            for name, value, mean, scale, coefficient in zip(
                self.feature_names, values, self.means, self.scales, self.coefficients, strict=True
            )
        }

    def probability(self, features: Features) -> float:
        """P(does not complete or fails)."""
        log_odds = self.intercept + sum(self.contributions(features).values())
        if log_odds >= 0:
            return 1.0 / (1.0 + math.exp(-log_odds))
        odds = math.exp(log_odds)
        return odds / (1.0 + odds)

    def to_json(self) -> str:
        return json.dumps({**self._fields(), "version": self.version}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> AtRiskModel:
        """The stored model, or ModelFileError saying why it cannot be used: not this format,
        trained on other features than this code computes, or damaged."""
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as error:
            raise ModelFileError(f"the model is not JSON: {error}") from None
        if not isinstance(data, dict):
            raise ModelFileError("the model is not a JSON object")
        if data.get("format") != MODEL_FORMAT:
            raise ModelFileError(
                f"the model's format is {data.get('format')!r}, this code reads {MODEL_FORMAT!r}"
            )
        names = tuple(_strings(data, "feature_names"))
        if names != FEATURE_NAMES:
            raise ModelFileError(
                f"the model was trained on features {list(names)}, this code computes "
                f"{list(FEATURE_NAMES)}: train it again"
            )
        width = len(names)
        model = cls(
            trained_at=_datetime(data, "trained_at"),
            training_size=_integer(data, "training_size"),
            feature_names=names,
            means=_numbers(data, "means", width),
            scales=_numbers(data, "scales", width),
            coefficients=_numbers(data, "coefficients", width),
            intercept=_number(data.get("intercept"), "intercept"),
            metrics=_metrics(data.get("metrics", {})),
        )
        if any(scale <= 0 for scale in model.scales):
            raise ModelFileError("the model's scales must all be above 0")
        if data.get("version") != model.version:
            raise ModelFileError(
                f"the model's version {data.get('version')!r} does not match its parameters "
                f"({model.version}): it was changed or damaged"
            )
        return model


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ModelFileError(f"the model's {name} must be a finite number, not {value!r}")
    return float(value)


def _numbers(data: dict[str, Any], name: str, width: int) -> tuple[float, ...]:
    values = data.get(name)
    if not isinstance(values, list) or len(values) != width:
        raise ModelFileError(f"the model's {name} must be a list of {width} numbers")
    return tuple(_number(v, name) for v in values)


def _strings(data: dict[str, Any], name: str) -> list[str]:
    values = data.get(name)
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ModelFileError(f"the model's {name} must be a list of names")
    return values


def _integer(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ModelFileError(f"the model's {name} must be a count, not {value!r}")
    return value


def _datetime(data: dict[str, Any], name: str) -> datetime:
    value = data.get(name)
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ModelFileError(f"the model's {name} must be an ISO 8601 time with a zone")
    return parsed


def _metrics(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ModelFileError("the model's metrics must be an object of numbers")
    return {str(k): _number(v, f"metric {k}") for k, v in value.items()}
