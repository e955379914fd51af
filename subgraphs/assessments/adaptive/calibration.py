"""Item calibration by marginal maximum likelihood: EM over Gauss-Hermite quadrature of a
standard normal ability distribution (Bock & Aitkin), with weak priors on the parameters
(log a ~ N(0, 0.5²), b ~ N(authored difficulty, 2²), logit c ~ N(logit(1/choices), 0.5²)),
so that sparse items stay finite. 2PL for every item; 3PL for the items marked `guessing`
(choice questions with enough responses). Standard errors from the cross-product of each
responder's score (the observed information of the marginal likelihood, item by item).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from numpy.typing import NDArray
from scipy.optimize import minimize

from subgraphs.assessments.adaptive.irt import PROBABILITY_FLOOR, Vector

Matrix = NDArray[np.float64]

LOG_A_SD = 0.5
B_SD = 2.0
LOGIT_C_SD = 0.5


@dataclass(frozen=True, slots=True)
class ItemSpec:
    prior_b: float = 0.0
    guessing: float | None = None  # 1/choices for a 3PL item; None: 2PL


@dataclass(frozen=True, slots=True)
class Estimate:
    a: float
    b: float
    c: float
    se_a: float
    se_b: float
    se_c: float | None
    responses: int


@dataclass(frozen=True, slots=True)
class Calibration:
    items: list[Estimate]
    iterations: int
    converged: bool


def _logit(p: Vector) -> Vector:
    out: Vector = np.log(p / (1 - p))
    return out


def _unpack(params: Vector, j: int, three: NDArray[np.intp]) -> tuple[Vector, Vector, Vector]:
    a = np.exp(params[:j])
    b = params[j : 2 * j]
    c = np.zeros(j)
    c[three] = 1 / (1 + np.exp(-params[2 * j :]))
    return a, b, c


def _curves(
    nodes: Vector, a: Vector, b: Vector, c: Vector
) -> tuple[Matrix, Matrix, Matrix, Matrix, Matrix]:
    """P (JxQ) and its derivatives by log a, b and logit c."""
    star = 1 / (1 + np.exp(-a[:, None] * (nodes[None, :] - b[:, None])))
    p = np.clip(c[:, None] + (1 - c[:, None]) * star, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
    slope = (1 - c[:, None]) * star * (1 - star)
    d_log_a = slope * a[:, None] * (nodes[None, :] - b[:, None])
    d_b = -slope * a[:, None]
    d_logit_c = (c * (1 - c))[:, None] * (1 - star)
    return p, d_log_a, d_b, d_logit_c, star


def calibrate(
    responses: Matrix,
    specs: list[ItemSpec],
    *,
    quadrature: int = 41,
    max_iterations: int = 500,
    tolerance: float = 1e-4,
) -> Calibration:
    """Estimate every item's parameters from a responders x items matrix of 1 (right),
    0 (wrong) and NaN (not given)."""
    j = responses.shape[1]
    if j != len(specs):
        raise ValueError("one spec per item")
    nodes, weights = hermegauss(quadrature)
    log_prior = np.log(weights / weights.sum())
    seen = ~np.isnan(responses)
    right = np.where(seen, responses, 0.0)
    wrong = seen - right
    three = np.array([i for i, s in enumerate(specs) if s.guessing is not None], dtype=np.intp)
    prior_b = np.array([s.prior_b for s in specs])
    prior_logit_c = _logit(np.array([specs[i].guessing or 0.2 for i in three]))
    params = np.concatenate([np.zeros(j), prior_b, prior_logit_c])

    def posterior(params: Vector) -> Matrix:
        p = _curves(nodes, *_unpack(params, j, three))[0]
        log_like = right @ np.log(p) + wrong @ np.log(1 - p) + log_prior
        w = np.exp(log_like - log_like.max(axis=1, keepdims=True))
        normalised: Matrix = w / w.sum(axis=1, keepdims=True)
        return normalised

    def objective(params: Vector, r: Matrix, n: Matrix) -> tuple[float, Vector]:
        p, d_log_a, d_b, d_logit_c, _ = _curves(nodes, *_unpack(params, j, three))
        value = (r * np.log(p) + (n - r) * np.log(1 - p)).sum()
        residual = (r - n * p) / (p * (1 - p))
        grad_log_a = (residual * d_log_a).sum(axis=1) - params[:j] / LOG_A_SD**2
        grad_b = (residual * d_b).sum(axis=1) - (params[j : 2 * j] - prior_b) / B_SD**2
        grad_c = (residual[three] * d_logit_c[three]).sum(axis=1) - (
            params[2 * j :] - prior_logit_c
        ) / LOGIT_C_SD**2
        value -= 0.5 * (
            (params[:j] ** 2).sum() / LOG_A_SD**2
            + ((params[j : 2 * j] - prior_b) ** 2).sum() / B_SD**2
            + ((params[2 * j :] - prior_logit_c) ** 2).sum() / LOGIT_C_SD**2
        )
        return -float(value), -np.concatenate([grad_log_a, grad_b, grad_c])

    converged = False
    iteration = 0
    bounds = [(-2.5, 2.5)] * j + [(-6.0, 6.0)] * j + [(-6.0, 0.0)] * len(three)
    for iteration in range(1, max_iterations + 1):  # noqa: B007 (reported below)
        w = posterior(params)
        r, n = right.T @ w, seen.T.astype(np.float64) @ w  # expected right / answered, JxQ
        result = minimize(
            objective, params, args=(r, n), jac=True, method="L-BFGS-B", bounds=bounds
        )
        step = float(np.abs(result.x - params).max())
        params = result.x
        if step < tolerance:
            converged = True
            break
    return Calibration(
        _estimates(params, posterior(params), right, seen, nodes, three),
        iteration,
        converged,
    )


def _estimates(
    params: Vector,
    w: Matrix,
    right: Matrix,
    seen: NDArray[np.bool_],
    nodes: Vector,
    three: NDArray[np.intp],
) -> list[Estimate]:
    """Standard errors from Σ over responders of (score)(score)ᵀ per item, plus the prior."""
    j = right.shape[1]
    a, b, c = _unpack(params, j, three)
    p, d_log_a, d_b, d_logit_c, _ = _curves(nodes, a, b, c)
    scores = []
    for derivative in (d_log_a, d_b, d_logit_c):
        g = derivative / (p * (1 - p))
        scores.append(seen * (right * (w @ g.T) - w @ (p * g).T))  # responders x items
    is_three = np.zeros(j, dtype=bool)
    is_three[three] = True
    estimates = []
    for item in range(j):
        k = 3 if is_three[item] else 2
        s = np.stack([scores[m][:, item] for m in range(k)])
        info = s @ s.T + np.diag([1 / LOG_A_SD**2, 1 / B_SD**2, 1 / LOGIT_C_SD**2][:k])
        cov = np.linalg.pinv(info)
        se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        estimates.append(
            Estimate(
                a=float(a[item]),
                b=float(b[item]),
                c=float(c[item]),
                se_a=float(a[item] * se[0]),  # delta method from log a
                se_b=float(se[1]),
                se_c=float(c[item] * (1 - c[item]) * se[2]) if k == 3 else None,
                responses=int(seen[:, item].sum()),
            )
        )
    return estimates
