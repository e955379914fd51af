"""Ranking for semantic search: cosine similarity over unit vectors, and reciprocal rank
fusion of the full-text and semantic rankings (HYBRID).

Why rank fusion and not a blend of scores: ts_rank is unbounded and grows with how often and
where words occur, cosine similarity lives in a narrow band that depends on the query; a
weighted sum of the two needs normalising and a weight tuned per catalogue, while RRF uses
only positions and needs one constant (k = 60, from Cormack et al. 2009). It measured better
too (bench/README.md, "Semantic search").
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from common.ai.embeddings import Vectors

RRF_K = 60
# Below this cosine similarity a course is not a semantic match: all-MiniLM-L6-v2 gives
# unrelated course texts about 0.0-0.2 against a query (bench/data/search).
MIN_SIMILARITY = 0.25


def by_similarity(
    query: Vectors, ids: Sequence[uuid.UUID], vectors: Vectors, floor: float = MIN_SIMILARITY
) -> list[uuid.UUID]:
    """The ids whose vector is at least `floor` similar to the query's, most similar first
    (ties by id): one matrix-vector product, O(len(ids) x 384)."""
    if not len(ids):
        return []
    scores = vectors @ query[0]
    order = sorted(
        (index for index in range(len(ids)) if scores[index] >= floor),
        key=lambda index: (-float(scores[index]), ids[index]),
    )
    return [ids[index] for index in order]


def fused(rankings: Sequence[Sequence[uuid.UUID]], k: int = RRF_K) -> list[uuid.UUID]:
    """Reciprocal rank fusion: each id scores the sum of 1 / (k + rank) over the rankings
    holding it (rank from 1); best first, ties by id."""
    scores: dict[uuid.UUID, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda item: (-scores[item], item))
