""" "What next" recommendations on a simulated catalogue: the blend against collaborative
filtering alone, content similarity alone and popularity, in the same run
(subgraphs/analytics/recommendations/similarity.py; the service feeds the same functions).

The simulation: `--topics` topics of `--per-topic` courses each, at three levels; a course's
text is drawn from its topic's words and words common to all (TF-IDF content similarity, as
the courses subgraph computes it without the embedding model). Each topic has a partner
topic (Python and data analysis, say) that no text reveals: a learner's interests are a
main topic, often its partner, sometimes a third. Courses have a Zipf-like appeal; a learner
takes 3 to 9 courses, topic by interest, lower levels of a topic first, and completes each
with a probability that is higher in their main topic. A fifth of the courses are new
(few learners yet): there only content similarity knows them.

Evaluation, in a dense catalogue (many learners per course) and a sparse one: each learner
with 4 courses or more has their last two held out; co-enrollment counts are made from
everything else; each gets 10 recommendations from their other courses. Reported over the
same learners for every method: hit rate@10 (a held-out course in the 10), precision@5,
recall@10, nDCG@10; recall@10 of the held-out courses that are new; and recall@10 of the
held-out two when only the learner's first course is known (a nearly new learner).
"Alone" methods fill their list with popular courses when their evidence runs out.

Usage: .venv/bin/python bench/recommendations.py [--seed 7]   (about a minute)
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from common.ai.tfidf import tfidf_vectors
from subgraphs.analytics.recommendations.similarity import (
    CoCount,
    Evidence,
    Weights,
    blend,
    collaborative,
    content,
    popularity,
)

COMMON_WORDS = ["practical", "guide", "skills", "project", "hands", "fundamentals", "tools"]
SIMILAR_PER_COURSE = 20  # what the service asks the courses subgraph for, per course taken


@dataclass(frozen=True, slots=True)
class Catalogue:
    topic: list[int]
    level: list[int]
    appeal: np.ndarray
    texts: list[str]
    partner: list[int]
    new: frozenset[int]


def catalogue(rng: np.random.Generator, topics: int, per_topic: int) -> Catalogue:
    vocabulary = [[f"t{t}w{w}" for w in range(12)] for t in range(topics)]
    partner = [(t + 1) if t % 2 == 0 else (t - 1) for t in range(topics)]
    if topics % 2:
        partner[-1] = 0
    topic, level, texts = [], [], []
    for t in range(topics):
        for index in range(per_topic):
            topic.append(t)
            level.append(index % 3)
            own = rng.choice(vocabulary[t], size=5, replace=False).tolist()
            # some texts borrow words of another topic (a course that mentions SQL in passing)
            if rng.random() < 0.3:
                own += rng.choice(vocabulary[int(rng.integers(topics))], size=2).tolist()
            common = rng.choice(COMMON_WORDS, size=3, replace=False).tolist()
            texts.append(" ".join(own + common))
    appeal = rng.zipf(1.6, size=len(topic)).astype(float).clip(max=40)
    new = rng.random(len(topic)) < 0.2
    appeal[new] *= 0.08  # new courses: few learners yet
    return Catalogue(topic, level, appeal, texts, partner, frozenset(np.nonzero(new)[0].tolist()))


def histories(
    rng: np.random.Generator, books: Catalogue, learners: int
) -> list[list[tuple[int, bool]]]:
    topics = max(books.topic) + 1
    by_topic = [[c for c, t in enumerate(books.topic) if t == topic] for topic in range(topics)]
    result = []
    for _ in range(learners):
        main = int(rng.integers(topics))
        interests = np.full(topics, 0.02)
        interests[main] = 1.0
        if rng.random() < 0.7:
            interests[books.partner[main]] = 0.6
        interests[int(rng.integers(topics))] += 0.3
        interests /= interests.sum()
        taken: list[tuple[int, bool]] = []
        seen: set[int] = set()
        for _ in range(int(rng.integers(3, 10))):
            topic = int(rng.choice(topics, p=interests))
            options = [c for c in by_topic[topic] if c not in seen]
            if not options:
                continue
            done_levels = [books.level[c] for c in seen if books.topic[c] == topic]
            next_level = min(max(done_levels, default=-1) + 1, 2)
            weight = np.array(
                [books.appeal[c] * (3.0 if books.level[c] == next_level else 1.0) for c in options]
            )
            course = int(rng.choice(options, p=weight / weight.sum()))
            seen.add(course)
            finish = 0.75 if topic == main else 0.45
            taken.append((course, bool(rng.random() < finish)))
        result.append(taken)
    return result


Recommender = Callable[[set[int]], list[int]]


def recommenders(
    books: Catalogue, train: Sequence[Sequence[tuple[int, bool]]]
) -> dict[str, Recommender]:
    courses = len(books.topic)
    took = np.zeros((len(train), courses), dtype=np.int32)
    completed = np.zeros_like(took)
    for row, taken in enumerate(train):
        for course, done in taken:
            took[row, course] = 1
            completed[row, course] = int(done)
    both = took.T @ took  # [s, t]: learners who took s and t
    both_completed = completed.T @ took  # [s, t]: of them, who completed s
    takers = {c: int(n) for c, n in enumerate(took.sum(axis=0))}
    popular = popularity(takers)
    vectors = tfidf_vectors(books.texts)
    cosines = vectors @ vectors.T

    def counts(taken: set[int]) -> dict[tuple[int, int], CoCount]:
        return {
            (s, int(t)): CoCount(int(both[s, t]), int(both_completed[s, t]))
            for s in taken
            for t in np.nonzero(both[s])[0]
            if t != s
        }

    def similar(taken: set[int]) -> dict[tuple[int, int], float]:
        found = {}
        for s in taken:
            order = [int(t) for t in np.argsort(-cosines[s]) if t != s][:SIMILAR_PER_COURSE]
            found.update({(s, t): float(cosines[s, t]) for t in order})
        return found

    def method(weights: Weights, measure: str = "cosine") -> Recommender:
        def recommend(taken: set[int]) -> list[int]:
            cf: dict[int, Evidence[int]] = (
                collaborative(taken, counts(taken), takers, measure=measure)
                if weights.collaborative
                else {}
            )
            near = content(taken, similar(taken)) if weights.content else {}
            found = blend(cf, near, popular, exclude=taken, weights=weights, first=10)
            return [item.course for item in found]

        return recommend

    return {
        "popularity": method(Weights(0.0, 0.0, 1.0)),
        "content (TF-IDF) alone": method(Weights(0.0, 1.0, 0.0)),
        "collaborative alone": method(Weights(1.0, 0.0, 0.0)),
        "collaborative alone, Jaccard": method(Weights(1.0, 0.0, 0.0), "jaccard"),
        "blend (shipped: 0.7 / 0.2 / 0.1)": method(Weights()),
        "blend 0.6 / 0.3 / 0.1": method(Weights(0.6, 0.3, 0.1)),
        "blend 0.8 / 0.1 / 0.1": method(Weights(0.8, 0.1, 0.1)),
        "blend 0.5 / 0.5 / 0": method(Weights(0.5, 0.5, 0.0)),
    }


def metrics(ranked: Sequence[int], held: set[int]) -> tuple[float, float, float, float]:
    hit = float(any(c in held for c in ranked[:10]))
    precision5 = sum(c in held for c in ranked[:5]) / 5
    recall10 = sum(c in held for c in ranked[:10]) / len(held)
    dcg = sum(1 / math.log2(rank + 2) for rank, c in enumerate(ranked[:10]) if c in held)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(len(held), 10)))
    return hit, precision5, recall10, dcg / ideal


SCENARIOS = {  # name: (topics, courses per topic, learners)
    "dense: 120 courses, 3000 learners": (10, 12, 3000),
    "sparse: 400 courses, 1000 learners": (20, 20, 1000),
}


def evaluate(name: str, topics: int, per_topic: int, learners: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    books = catalogue(rng, topics, per_topic)
    people = histories(rng, books, learners)
    tested = [index for index, taken in enumerate(people) if len(taken) >= 4]
    held_out = set(tested)
    train = [taken[:-2] if index in held_out else taken for index, taken in enumerate(people)]
    methods = recommenders(books, train)
    print(f"\n### {name} ({len(tested)} learners tested, {len(books.new)} new courses)\n")
    print(
        "| method | hit rate@10 | precision@5 | recall@10 | nDCG@10 | nDCG vs popularity "
        "| recall@10, new courses | recall@10, one course known |"
    )
    print("|---|---|---|---|---|---|---|---|")
    baseline = 0.0
    for method, recommend in methods.items():
        totals = np.zeros(4)
        new_found = new_held = 0
        short = 0.0
        for index in tested:
            taken = {course for course, _ in people[index][:-2]}
            held = {course for course, _ in people[index][-2:]}
            ranked = recommend(taken)
            totals += metrics(ranked, held)
            fresh = held & books.new
            new_held += len(fresh)
            new_found += len(fresh & set(ranked[:10]))
            short += metrics(recommend({people[index][0][0]}), held)[2]
        hit, p5, r10, ndcg = totals / len(tested)
        baseline = baseline or ndcg
        print(
            f"| {method} | {hit:.3f} | {p5:.3f} | {r10:.3f} | {ndcg:.3f} "
            f"| {ndcg / baseline:.2f}x | {new_found / max(new_held, 1):.3f} "
            f"| {short / len(tested):.3f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, seed {args.seed}")
    for name, (topics, per_topic, learners) in SCENARIOS.items():
        evaluate(name, topics, per_topic, learners, args.seed)
    print(f"\n({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
