"""The maths of recommending, pure and generic in the course key (UUIDs in the service,
integers in bench/recommendations.py): item-to-item similarity from co-enrollment, content
evidence from similar courses, popularity, and their blend.

Item-based collaborative filtering: two courses are alike when the same learners took both.
The similarity of a source course s (one the learner took) and a target t is the cosine of
their learner sets, |s ∩ t| / sqrt(|s| |t|), shrunk towards zero when few learners back it
(times n / (n + SHRINK), Koren's shrinkage), and raised when those learners completed s
(they stayed to the end, then went on to t). A target's score sums its similarity to every
course the learner took. Cosine, not Jaccard: Jaccard's union is dominated by the popular
course of a pair, so a niche follow-up of a popular course ranks low; bench/README shows
both measured.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Mapping
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

K = TypeVar("K", bound=Hashable)

SHRINK: Final = 5.0  # co-takers at which a pair's similarity counts half
COMPLETION_BONUS: Final = 0.5  # a pair all of whose co-takers completed the source: x1.5


@dataclass(frozen=True, slots=True)
class CoCount:
    """Learners who took a source course and a target: all of them, and those of them who
    completed the source."""

    both: int
    completed: int = 0


def cosine(both: int, source_takers: int, target_takers: int) -> float:
    if both <= 0 or source_takers <= 0 or target_takers <= 0:
        return 0.0
    return both / math.sqrt(source_takers * target_takers)


def jaccard(both: int, source_takers: int, target_takers: int) -> float:
    union = source_takers + target_takers - both
    return both / union if both > 0 and union > 0 else 0.0


def shrunk(similarity: float, both: int, shrink: float = SHRINK) -> float:
    """The similarity scaled by how many learners back it: n / (n + shrink)."""
    return similarity * both / (both + shrink) if both > 0 else 0.0


def item_similarity(
    count: CoCount,
    source_takers: int,
    target_takers: int,
    *,
    shrink: float = SHRINK,
    completion_bonus: float = COMPLETION_BONUS,
    measure: str = "cosine",
) -> float:
    raw = (jaccard if measure == "jaccard" else cosine)(count.both, source_takers, target_takers)
    completed = count.completed / count.both if count.both else 0.0
    return shrunk(raw, count.both, shrink) * (1.0 + completion_bonus * completed)


@dataclass(frozen=True, slots=True)
class Evidence(Generic[K]):
    """Why a course scores: its score from one kind of evidence, and the course the learner
    took that contributes most (named in the reason)."""

    score: float
    source: K
    completed: bool = False  # the co-takers of `source` completed it (the reason says so)


def collaborative(
    taken: Collection[K],
    counts: Mapping[tuple[K, K], CoCount],
    takers: Mapping[K, int],
    *,
    shrink: float = SHRINK,
    completion_bonus: float = COMPLETION_BONUS,
    measure: str = "cosine",
) -> dict[K, Evidence[K]]:
    """Each target's summed similarity to the courses taken, keyed by target; `counts` holds
    the co-counts of (taken course, target) pairs, `takers` every course's learner count."""
    scores: dict[K, float] = {}
    best: dict[K, tuple[float, K, bool]] = {}
    for (source, target), count in counts.items():
        if source not in taken or target in taken:
            continue
        part = item_similarity(
            count,
            takers.get(source, 0),
            takers.get(target, 0),
            shrink=shrink,
            completion_bonus=completion_bonus,
            measure=measure,
        )
        if part <= 0:
            continue
        scores[target] = scores.get(target, 0.0) + part
        if target not in best or part > best[target][0]:
            best[target] = (part, source, count.completed * 2 >= count.both)
    return {
        target: Evidence(score, best[target][1], best[target][2])
        for target, score in scores.items()
    }


def content(taken: Collection[K], similar: Mapping[tuple[K, K], float]) -> dict[K, Evidence[K]]:
    """Each target's content evidence: its highest similarity to a course taken (the max, not
    the sum: ten courses on one topic should not drown a learner's other interest)."""
    found: dict[K, Evidence[K]] = {}
    for (source, target), score in similar.items():
        if source not in taken or target in taken or score <= 0:
            continue
        if target not in found or score > found[target].score:
            found[target] = Evidence(score, source)
    return found


def popularity(takers: Mapping[K, int]) -> dict[K, float]:
    """Learner counts on a log scale, the most popular 1.0."""
    most = max(takers.values(), default=0)
    if most <= 0:
        return {}
    return {course: math.log1p(n) / math.log1p(most) for course, n in takers.items() if n > 0}


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each kind of evidence counts (bench/recommendations.py measured these)."""

    collaborative: float = 0.7
    content: float = 0.2
    popularity: float = 0.1


BLEND: Final = Weights()


@dataclass(frozen=True, slots=True)
class Scored(Generic[K]):
    course: K
    score: float
    collaborative: Evidence[K] | None
    content: Evidence[K] | None
    popularity: float


def _normalised(found: Mapping[K, Evidence[K]]) -> dict[K, float]:
    most = max((evidence.score for evidence in found.values()), default=0.0)
    return {key: evidence.score / most for key, evidence in found.items()} if most > 0 else {}


def blend(
    by_collaboration: Mapping[K, Evidence[K]],
    by_content: Mapping[K, Evidence[K]],
    popular: Mapping[K, float],
    *,
    exclude: Collection[K] = (),
    weights: Weights = BLEND,
    first: int = 10,
) -> list[Scored[K]]:
    """The best `first` courses not excluded, by the weighted sum of their evidence, each
    kind scaled to 0..1 first (its best candidate 1.0), so the weights mean the same whether
    content similarity comes from embeddings or TF-IDF. Ties go to the more popular, then to
    the smaller key (a stable order)."""
    cf, near = _normalised(by_collaboration), _normalised(by_content)
    candidates = (set(cf) | set(near) | set(popular)) - set(exclude)
    scored = [
        Scored(
            course,
            weights.collaborative * cf.get(course, 0.0)
            + weights.content * near.get(course, 0.0)
            + weights.popularity * popular.get(course, 0.0),
            by_collaboration.get(course),
            by_content.get(course),
            popular.get(course, 0.0),
        )
        for course in candidates
    ]
    scored.sort(key=lambda item: (-item.score, -item.popularity, str(item.course)))
    return scored[: max(first, 0)]
