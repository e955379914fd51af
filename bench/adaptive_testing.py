"""Adaptive testing in simulation: the adaptive test against a fixed form of the same bank,
and the calibration's recovery of known item parameters.

1. A bank of `--items` items (2PL, and 3PL for a fifth of them, like choice questions):
   a ~ lognormal(0.2, 0.25), b ~ N(0, 1), c = 0.2 on the 3PL items; five content tags.
2. `--simulees` learners, θ ~ N(0, 1), each take the adaptive test (EAP/MLE, next item by
   maximum information with content balancing, randomesque among the `--randomesque` best
   and restricted maximum information: items given in more than `--max-exposure` of the
   tests started so far are left out; stop at SE ≤ `--target-se` or `--max-items`) as the
   assessments subgraph runs it (subgraphs/assessments/adaptive: irt, selection). Reported:
   mean test length, bias and RMSE of θ, the share reaching the target, the maximum exposure
   rate.
3. The fixed form: the bank's items most informative at θ = 0 (the best single form for an
   N(0, 1) population), at the shortest length at which the same simulees' mean SE is no
   more than the adaptive test's (the main comparison), and at the shortest length at which
   as many simulees reach SE ≤ the target as with the adaptive test.
4. Calibration: `--responders` simulees answer every item of a 2PL bank; the EM/MML estimates
   (subgraphs/assessments/adaptive/calibration) against the true parameters (Pearson r).

Usage: .venv/bin/python bench/adaptive_testing.py [--seed 7]   (about a minute)
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

import numpy as np

from subgraphs.assessments.adaptive.calibration import ItemSpec, calibrate
from subgraphs.assessments.adaptive.irt import Item, estimate, information
from subgraphs.assessments.adaptive.selection import Exposure, PoolItem, next_item

TAGS = ["algebra", "geometry", "statistics", "logic", "numbers"]


def bank(rng: np.random.Generator, size: int) -> list[PoolItem[int]]:
    a = rng.lognormal(0.2, 0.25, size)
    b = rng.normal(0.0, 1.0, size)
    guessing = rng.random(size) < 0.2
    return [
        PoolItem(
            i, Item(float(a[i]), float(b[i]), 0.2 if guessing[i] else 0.0), frozenset({TAGS[i % 5]})
        )
        for i in range(size)
    ]


def answer(rng: np.random.Generator, theta: float, item: Item) -> bool:
    p = item.c + (1 - item.c) / (1 + np.exp(-item.a * (theta - item.b)))
    return bool(rng.random() < p)


def adaptive(
    pool: list[PoolItem[int]],
    thetas: np.ndarray,
    rng: np.random.Generator,
    args: argparse.Namespace,
) -> dict[str, float]:
    picker = random.Random(args.seed)
    targets = dict.fromkeys(TAGS, 1.0)
    lengths, estimates, errors = [], [], []
    exposure = np.zeros(len(pool))
    administrations: dict[int, int] = {}
    for started, theta in enumerate(thetas, start=1):
        given: list[PoolItem[int]] = []
        right: list[bool] = []
        current = estimate([], [])
        while current.standard_error > args.target_se and len(given) < args.max_items:
            chosen = next_item(
                pool,
                given,
                current.theta,
                targets=targets,
                randomesque=args.randomesque,
                rng=picker,
                exposure=Exposure(administrations, started, args.max_exposure),
            )
            if chosen is None:
                break
            given.append(chosen)
            exposure[chosen.key] += 1
            administrations[chosen.key] = administrations.get(chosen.key, 0) + 1
            right.append(answer(rng, float(theta), chosen.item))
            current = estimate([g.item for g in given], right)
        lengths.append(len(given))
        estimates.append(current.theta)
        errors.append(current.standard_error)
    est = np.array(estimates)
    return {
        "length": float(np.mean(lengths)),
        "bias": float(np.mean(est - thetas)),
        "rmse": float(np.sqrt(np.mean((est - thetas) ** 2))),
        "mean_se": float(np.mean(errors)),
        "reached": float(np.mean(np.array(errors) <= args.target_se)),
        "max_exposure": float(exposure.max() / len(thetas)),
    }


def fixed_form(
    pool: list[PoolItem[int]],
    thetas: np.ndarray,
    rng: np.random.Generator,
    mean_se: float,
    reached: float,
    target_se: float,
) -> dict[str, float]:
    """The shortest best-at-θ=0 form whose mean SE is no more than `mean_se`, and the
    shortest where as many simulees as `reached` (a share) have SE ≤ `target_se`."""
    a = np.array([p.item.a for p in pool])
    b = np.array([p.item.b for p in pool])
    c = np.array([p.item.c for p in pool])
    order = [pool[i] for i in np.argsort(-information(0.0, a, b, c), kind="stable")]
    answers = [[answer(rng, float(t), p.item) for p in order] for t in thetas]

    def fits(length: int) -> tuple[np.ndarray, np.ndarray]:
        items = [p.item for p in order[:length]]
        found = [estimate(items, row[:length]) for row in answers]
        return np.array([f.theta for f in found]), np.array([f.standard_error for f in found])

    def shortest(good: Callable[[np.ndarray], bool]) -> int | None:
        """Both criteria improve as the form grows: bisect on the length."""
        if not good(fits(len(order))[1]):
            return None
        low, high = 1, len(order)
        while low < high:
            middle = (low + high) // 2
            if good(fits(middle)[1]):
                high = middle
            else:
                low = middle + 1
        return low

    length = shortest(lambda se: float(se.mean()) <= mean_se) or len(order)
    est, errors = fits(length)
    share = shortest(lambda se: float(np.mean(se <= target_se)) >= reached)
    return {
        "length": float(length),
        "mean_se": float(errors.mean()),
        "bias": float(np.mean(est - thetas)),
        "rmse": float(np.sqrt(np.mean((est - thetas) ** 2))),
        "reached": float(np.mean(errors <= target_se)),
        "length_same_share": float("nan") if share is None else float(share),
    }


def recovery(rng: np.random.Generator, items: int, responders: int) -> dict[str, float]:
    a = rng.lognormal(0.2, 0.25, items)
    b = rng.normal(0.0, 1.0, items)
    theta = rng.normal(0.0, 1.0, responders)
    p = 1 / (1 + np.exp(-a * (theta[:, None] - b)))
    x = (rng.random((responders, items)) < p).astype(np.float64)
    started = time.perf_counter()
    fit = calibrate(x, [ItemSpec() for _ in range(items)])
    seconds = time.perf_counter() - started
    ea = np.array([e.a for e in fit.items])
    eb = np.array([e.b for e in fit.items])
    return {
        "r_a": float(np.corrcoef(a, ea)[0, 1]),
        "r_b": float(np.corrcoef(b, eb)[0, 1]),
        "rmse_a": float(np.sqrt(np.mean((ea - a) ** 2))),
        "rmse_b": float(np.sqrt(np.mean((eb - b) ** 2))),
        "mean_se_b": float(np.mean([e.se_b for e in fit.items])),
        "iterations": float(fit.iterations),
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--simulees", type=int, default=1000)
    parser.add_argument("--target-se", type=float, default=0.3)
    parser.add_argument("--max-items", type=int, default=60)
    parser.add_argument("--randomesque", type=int, default=5)
    parser.add_argument("--max-exposure", type=float, default=0.25)
    parser.add_argument("--responders", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    pool = bank(rng, args.items)
    thetas = rng.normal(0.0, 1.0, args.simulees)
    cat = adaptive(pool, thetas, rng, args)
    fixed = fixed_form(pool, thetas, rng, cat["mean_se"], cat["reached"], args.target_se)
    print(f"bank {args.items} items, {args.simulees} simulees θ ~ N(0,1), seed {args.seed}")
    print(
        f"adaptive: mean length {cat['length']:.1f}, mean SE {cat['mean_se']:.3f}, "
        f"SE ≤ {args.target_se} reached by {cat['reached']:.1%}, bias {cat['bias']:+.3f}, "
        f"RMSE {cat['rmse']:.3f}, max exposure {cat['max_exposure']:.3f}"
    )
    print(
        f"fixed form (best at θ=0): length {fixed['length']:.0f} for mean SE "
        f"{fixed['mean_se']:.3f} (SE ≤ {args.target_se} for {fixed['reached']:.1%}), bias "
        f"{fixed['bias']:+.3f}, RMSE {fixed['rmse']:.3f}"
    )
    print(
        f"fixed form reaching SE ≤ {args.target_se} for as many simulees "
        f"({cat['reached']:.1%}): length {fixed['length_same_share']:.0f}"
    )
    print(
        f"adaptive / fixed length: {cat['length'] / fixed['length']:.1%} at equal mean SE, "
        f"{cat['length'] / fixed['length_same_share']:.1%} at an equal share reaching the "
        "target (goal ≤ 60%)"
    )
    rec = recovery(rng, args.items, args.responders)
    print(
        f"calibration, {args.responders} responders x {args.items} items (2PL): r(a) "
        f"{rec['r_a']:.3f}, r(b) {rec['r_b']:.3f}, RMSE a {rec['rmse_a']:.3f}, b "
        f"{rec['rmse_b']:.3f}, mean SE(b) {rec['mean_se_b']:.3f}, {rec['iterations']:.0f} EM "
        f"iterations in {rec['seconds']:.1f} s"
    )


if __name__ == "__main__":
    main()
