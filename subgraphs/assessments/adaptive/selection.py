"""Choosing an adaptive test's next item: content balancing over tags, then the most
informative items at the current θ, one of the `randomesque` best drawn at random, among the
items not over-exposed (restricted maximum information: an item whose exposure rate, its
administrations per test started, exceeds the assessment's maximum is left out while others
remain)."""

from __future__ import annotations

import random
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np

from subgraphs.assessments.adaptive.irt import Item, information

Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True, slots=True)
class PoolItem(Generic[Key]):
    key: Key
    item: Item
    tags: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Exposure(Generic[Key]):
    """How often each item has been given (`administrations`) over `tests` started, and the
    highest rate allowed."""

    administrations: Mapping[Key, int]
    tests: int
    max_rate: float

    def allows(self, key: Key) -> bool:
        return self.administrations.get(key, 0) <= self.max_rate * self.tests


def neediest_tag(
    targets: Mapping[str, float], given: Sequence[frozenset[str]], open_tags: set[str]
) -> str | None:
    """The tag furthest below its target share of the items given so far (among tags that
    still have items); None without targets."""
    total = sum(targets.values())
    candidates = [tag for tag in targets if tag in open_tags]
    if not candidates or total <= 0:
        return None
    count = max(1, len(given))

    def deficit(tag: str) -> float:
        share = sum(1 for tags in given if tag in tags) / count
        return targets[tag] / total - share

    return max(candidates, key=lambda tag: (deficit(tag), targets[tag]))


def next_item(
    pool: Sequence[PoolItem[Key]],
    given: Sequence[PoolItem[Key]],
    theta: float,
    *,
    targets: Mapping[str, float],
    randomesque: int,
    rng: random.Random,
    exposure: Exposure[Key] | None = None,
) -> PoolItem[Key] | None:
    """The next item for a learner at θ, or None when the pool is spent."""
    used = {entry.key for entry in given}
    remaining = [entry for entry in pool if entry.key not in used]
    if not remaining:
        return None
    if exposure is not None:
        allowed = [entry for entry in remaining if exposure.allows(entry.key)]
        remaining = allowed or remaining
    tag = neediest_tag(
        targets, [entry.tags for entry in given], {t for e in remaining for t in e.tags}
    )
    if tag is not None:
        remaining = [entry for entry in remaining if tag in entry.tags]
    a = np.array([e.item.a for e in remaining])
    b = np.array([e.item.b for e in remaining])
    c = np.array([e.item.c for e in remaining])
    order = np.argsort(-information(theta, a, b, c), kind="stable")
    best = order[: max(1, randomesque)]
    return remaining[int(best[rng.randrange(len(best))])]
