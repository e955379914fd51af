"""The IRT math of adaptive testing against values known in closed form, the next item's
choice, and the calibration's recovery of simulated items."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from subgraphs.assessments.adaptive.calibration import ItemSpec, calibrate
from subgraphs.assessments.adaptive.irt import Item, Scale, eap, estimate, information, mle
from subgraphs.assessments.adaptive.irt import probability as p_right
from subgraphs.assessments.adaptive.selection import (
    Exposure,
    PoolItem,
    neediest_tag,
    next_item,
)


def columns(*items: Item) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.array([i.a for i in items]),
        np.array([i.b for i in items]),
        np.array([i.c for i in items]),
    )


def test_probability_is_a_half_at_the_difficulty_and_lifted_by_guessing() -> None:
    got = p_right(0.5, *columns(Item(1.7, 0.5), Item(1.0, 0.5, 0.25)))
    assert got == pytest.approx([0.5, 0.625])
    assert p_right(1.0, *columns(Item(1.0, 0.0)))[0] == pytest.approx(1 / (1 + math.exp(-1)))


def test_information_at_the_difficulty() -> None:
    """2PL: a²/4; 3PL: a²(1 - c) / (4(1 + c))."""
    info = information(-1.0, *columns(Item(2.0, -1.0), Item(2.0, -1.0, 0.2)))
    assert info == pytest.approx([1.0, 4 * 0.8 / (4 * 1.2)])


def test_eap_without_answers_is_the_prior() -> None:
    ability = eap([], [])
    assert ability.theta == pytest.approx(0.0, abs=1e-9)
    assert ability.standard_error == pytest.approx(1.0, abs=1e-3)
    assert ability.method == "EAP"


def test_eap_moves_towards_the_answers_and_is_symmetric() -> None:
    items = [Item(1.0, 0.0), Item(1.0, 0.0)]
    up, down = eap(items, [True, True]), eap(items, [False, False])
    assert up.theta > 0.3
    assert up.standard_error < 1.0
    assert down.theta == pytest.approx(-up.theta)


def test_mle_of_one_right_and_one_wrong_answer_at_the_same_item() -> None:
    """Score a(1 - P) - aP = 0 at θ = b; information 2 · a²/4, so SE = √2 / a."""
    ability = mle([Item(1.5, 0.7), Item(1.5, 0.7)], [True, False])
    assert ability is not None
    assert ability.theta == pytest.approx(0.7, abs=1e-6)
    assert ability.standard_error == pytest.approx(math.sqrt(2) / 1.5, rel=1e-6)


def test_mle_needs_mixed_answers_and_estimate_falls_back_to_eap() -> None:
    items = [Item(1.0, 0.0), Item(1.0, 1.0)]
    assert mle(items, [True, True]) is None
    assert estimate(items, [True, True]).method == "EAP"
    assert estimate(items, [True, False]).method == "MLE"


def test_the_scale_maps_theta_linearly_and_clips() -> None:
    scale = Scale(0.0, 100.0)
    assert [scale.score(t) for t in (0.0, 3.0, -5.0, 1.5)] == [50.0, 100.0, 0.0, 75.0]
    assert scale.error(0.3) == 5.0
    assert Scale(200.0, 800.0).score(-1.5) == 350.0


def pool() -> list[PoolItem[str]]:
    return [
        PoolItem("easy-algebra", Item(1.0, -2.0), frozenset({"algebra"})),
        PoolItem("hard-algebra", Item(1.0, 2.0), frozenset({"algebra"})),
        PoolItem("middle-geometry", Item(1.0, 0.0), frozenset({"geometry"})),
        PoolItem("sharp-middle-algebra", Item(2.5, 0.1), frozenset({"algebra"})),
    ]


def test_next_item_is_the_most_informative_without_randomness() -> None:
    rng = random.Random(1)
    chosen = next_item(pool(), [], 2.0, targets={}, randomesque=1, rng=rng)
    assert chosen is not None
    assert chosen.key == "hard-algebra"
    chosen = next_item(pool(), [], 0.0, targets={}, randomesque=1, rng=rng)
    assert chosen is not None
    assert chosen.key == "sharp-middle-algebra"


def test_content_balancing_gives_the_tag_furthest_below_its_share() -> None:
    items = pool()
    given = [items[3]]  # one algebra item: geometry (half the target) is behind
    assert neediest_tag({"algebra": 1, "geometry": 1}, [g.tags for g in given], {"geometry"}) == (
        "geometry"
    )
    chosen = next_item(
        items, given, 0.0, targets={"algebra": 1, "geometry": 1}, randomesque=1, rng=random.Random()
    )
    assert chosen is not None
    assert chosen.key == "middle-geometry"


def test_randomesque_spreads_the_first_item_and_the_pool_runs_out() -> None:
    rng = random.Random(3)
    firsts = set()
    for _ in range(50):
        chosen = next_item(pool(), [], 0.0, targets={}, randomesque=2, rng=rng)
        assert chosen is not None
        firsts.add(chosen.key)
    assert firsts == {"sharp-middle-algebra", "middle-geometry"}
    assert next_item(pool(), pool(), 0.0, targets={}, randomesque=5, rng=rng) is None


def test_exposure_control_skips_items_given_in_more_than_the_maximum_share_of_tests() -> None:
    """Four tests started: the best item at θ = 0 was given in 2 (0.5 > 0.25), the runner-up
    in 1 (0.25, allowed); once every item is over-exposed the best is given anyway."""
    rng = random.Random(1)
    counts = {"sharp-middle-algebra": 2, "middle-geometry": 1}
    chosen = next_item(
        pool(), [], 0.0, targets={}, randomesque=1, rng=rng, exposure=Exposure(counts, 4, 0.25)
    )
    assert chosen is not None
    assert chosen.key == "middle-geometry"
    counts = dict.fromkeys((entry.key for entry in pool()), 2)
    chosen = next_item(
        pool(), [], 0.0, targets={}, randomesque=1, rng=rng, exposure=Exposure(counts, 4, 0.25)
    )
    assert chosen is not None
    assert chosen.key == "sharp-middle-algebra"


def test_exposure_control_holds_the_simulated_maximum_rate() -> None:
    """200 simulees whose θ is 0 all want the same items: with a 0.3 maximum no item is
    given in more than 30 % of the tests (plus the first test's own share)."""
    rng = random.Random(5)
    items = [PoolItem(i, Item(1.0 + i / 40, (i % 11 - 5) / 5)) for i in range(40)]
    administrations: dict[int, int] = {}
    for started in range(1, 201):
        given: list[PoolItem[int]] = []
        for _ in range(5):
            chosen = next_item(
                items,
                given,
                0.0,
                targets={},
                randomesque=1,
                rng=rng,
                exposure=Exposure(administrations, started, 0.3),
            )
            assert chosen is not None
            given.append(chosen)
            administrations[chosen.key] = administrations.get(chosen.key, 0) + 1
    assert max(administrations.values()) / 200 <= 0.3 + 1 / 200
    assert max(administrations.values()) / 200 >= 0.29


def simulate(
    rng: np.random.Generator, a: np.ndarray, b: np.ndarray, c: np.ndarray, people: int
) -> np.ndarray:
    theta = rng.normal(0.0, 1.0, people)
    p = c + (1 - c) / (1 + np.exp(-a * (theta[:, None] - b)))
    answers: np.ndarray = (rng.random((people, len(a))) < p).astype(np.float64)
    return answers


def test_calibration_recovers_simulated_2pl_items_with_missing_answers() -> None:
    rng = np.random.default_rng(11)
    a = rng.uniform(0.7, 2.0, 15)
    b = np.linspace(-1.8, 1.8, 15)
    x = simulate(rng, a, b, np.zeros(15), 1500)
    x[rng.random(x.shape) < 0.2] = np.nan  # not every responder saw every item
    fit = calibrate(x, [ItemSpec() for _ in range(15)])
    assert fit.converged
    eb = np.array([e.b for e in fit.items])
    ea = np.array([e.a for e in fit.items])
    assert np.corrcoef(b, eb)[0, 1] > 0.98
    assert np.corrcoef(a, ea)[0, 1] > 0.85
    assert np.abs(eb - b).max() < 0.4
    assert all(e.c == 0.0 and e.se_c is None for e in fit.items)
    assert all(0.02 < e.se_b < 0.3 for e in fit.items)
    assert {e.responses for e in fit.items} <= set(range(1100, 1300))


def test_standard_errors_shrink_with_more_responders() -> None:
    rng = np.random.default_rng(5)
    a, b = np.full(8, 1.2), np.linspace(-1, 1, 8)
    small = calibrate(simulate(rng, a, b, np.zeros(8), 200), [ItemSpec()] * 8)
    large = calibrate(simulate(rng, a, b, np.zeros(8), 1800), [ItemSpec()] * 8)
    ratio = np.mean([e.se_b for e in small.items]) / np.mean([e.se_b for e in large.items])
    assert ratio == pytest.approx(3.0, rel=0.25)  # √(1800/200)


def test_3pl_items_get_a_guessing_parameter_with_its_error() -> None:
    rng = np.random.default_rng(2)
    a, b, c = np.full(10, 1.5), np.linspace(-1, 1.5, 10), np.array([0.25] * 5 + [0.0] * 5)
    specs = [ItemSpec(guessing=0.25)] * 5 + [ItemSpec()] * 5
    fit = calibrate(simulate(rng, a, b, c, 2000), specs)
    guessed = fit.items[:5]
    assert all(0.1 < e.c < 0.4 and e.se_c is not None and e.se_c > 0 for e in guessed)
    assert all(e.c == 0.0 for e in fit.items[5:])


def test_calibration_refuses_a_spec_count_that_does_not_match() -> None:
    with pytest.raises(ValueError, match="one spec per item"):
        calibrate(np.zeros((3, 2)), [ItemSpec()])
