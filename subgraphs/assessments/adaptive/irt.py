"""Item response theory, the logistic models: probabilities, Fisher information and the
ability estimates of one learner (EAP, and MLE once both right and wrong answers exist).

An item has a discrimination `a`, a difficulty `b` and a lower asymptote `c` (guessing; 0 for
the 2PL model): P(right | θ) = c + (1 - c) / (1 + exp(-a(θ - b))).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float64]

THETA_BOUND = 4.0  # abilities are estimated within ±4
GRID = np.linspace(-THETA_BOUND, THETA_BOUND, 81)  # EAP's quadrature (standard normal prior)
PROBABILITY_FLOOR = 1e-9


@dataclass(frozen=True, slots=True)
class Item:
    a: float
    b: float
    c: float = 0.0


@dataclass(frozen=True, slots=True)
class Ability:
    theta: float
    standard_error: float
    method: str  # "EAP" or "MLE"


def probability(theta: Vector | float, a: Vector, b: Vector, c: Vector) -> Vector:
    """P(right) for every (θ, item) pair: shape (len(θ), len(items)), or (len(items),)."""
    t = np.asarray(theta, dtype=np.float64)[..., None]
    p = c + (1.0 - c) / (1.0 + np.exp(-a * (t - b)))
    clipped: Vector = np.clip(p, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
    return clipped


def information(theta: float, a: Vector, b: Vector, c: Vector) -> Vector:
    """Fisher information of each item at θ: a²·(P - c)²·(1 - P) / ((1 - c)²·P)."""
    p = probability(theta, a, b, c)
    info: Vector = a**2 * (p - c) ** 2 * (1.0 - p) / ((1.0 - c) ** 2 * p)
    return info


def _columns(items: list[Item]) -> tuple[Vector, Vector, Vector]:
    return (
        np.array([i.a for i in items], dtype=np.float64),
        np.array([i.b for i in items], dtype=np.float64),
        np.array([i.c for i in items], dtype=np.float64),
    )


def eap(items: list[Item], right: list[bool]) -> Ability:
    """Expected a posteriori θ under a standard normal prior, and the posterior SD."""
    a, b, c = _columns(items)
    x = np.array(right, dtype=np.float64)
    log_posterior = -0.5 * GRID**2
    if items:
        p = probability(GRID, a, b, c)
        log_posterior = log_posterior + (x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=1)
    weights = np.exp(log_posterior - log_posterior.max())
    weights /= weights.sum()
    mean = float((weights * GRID).sum())
    sd = float(np.sqrt((weights * (GRID - mean) ** 2).sum()))
    return Ability(mean, sd, "EAP")


def mle(items: list[Item], right: list[bool], *, start: float = 0.0) -> Ability | None:
    """Maximum likelihood θ (Fisher scoring, within ±4) and 1/√information; None unless the
    answers are mixed (all right or all wrong has no finite maximum)."""
    if not right or all(right) or not any(right):
        return None
    a, b, c = _columns(items)
    x = np.array(right, dtype=np.float64)
    theta = start
    for _ in range(50):
        p = probability(theta, a, b, c)
        star = (p - c) / (1 - c)
        score = float((a * star * (x - p) / p).sum())
        info = float(information(theta, a, b, c).sum())
        step = score / info
        theta = float(np.clip(theta + step, -THETA_BOUND, THETA_BOUND))
        if abs(step) < 1e-6:
            break
    info = float(information(theta, a, b, c).sum())
    return Ability(theta, float(1 / np.sqrt(info)), "MLE")


def estimate(items: list[Item], right: list[bool]) -> Ability:
    """MLE once the answers are mixed (started from EAP), EAP before."""
    prior = eap(items, right)
    return mle(items, right, start=prior.theta) or prior


@dataclass(frozen=True, slots=True)
class Scale:
    """The instructor's reporting scale: θ from -3 to 3 mapped linearly onto [low, high]."""

    low: float = 0.0
    high: float = 100.0
    span: float = 3.0

    def score(self, theta: float) -> float:
        share = (min(max(theta, -self.span), self.span) + self.span) / (2 * self.span)
        return round(self.low + share * (self.high - self.low), 2)

    def error(self, standard_error: float) -> float:
        return round(standard_error * (self.high - self.low) / (2 * self.span), 2)
