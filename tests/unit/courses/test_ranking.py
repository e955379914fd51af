"""Semantic ranking: cosine order above a floor, reciprocal rank fusion, and a course's vector
from its summary and lessons."""

from __future__ import annotations

import uuid

import numpy as np

from subgraphs.courses.embedding import course_vector
from subgraphs.courses.ranking import by_similarity, fused

A, B, C, D = sorted(uuid.UUID(int=n) for n in range(1, 5))


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_most_similar_first_and_none_below_the_floor() -> None:
    query = unit(1, 0).reshape(1, -1)
    vectors = np.stack([unit(0, 1), unit(1, 1), unit(1, 0.1), unit(-1, 0)])
    assert by_similarity(query, [A, B, C, D], vectors, floor=0.5) == [C, B]
    assert by_similarity(query, [], np.zeros((0, 2), dtype=np.float32)) == []


def test_ties_are_ordered_by_id() -> None:
    query = unit(1, 0).reshape(1, -1)
    assert by_similarity(query, [B, A], np.stack([unit(1, 0), unit(1, 0)]), floor=0.0) == [A, B]


def test_fusion_favours_what_both_rankings_hold_high() -> None:
    # B is second in both: 2/62 beats A's and C's 1/61 + nothing
    assert fused([[A, B], [C, B]]) == [B, A, C]
    # one ranking alone keeps its order
    assert fused([[C, A, B]]) == [C, A, B]
    # a first place in one ranking against a fifth place in both: 1/(k+1) vs 2/(k+5)
    fillers = [uuid.UUID(int=n) for n in range(10, 18)]
    left, right = [A, *fillers[:3], D], [*fillers[4:], D]
    for k, first in ((1, A), (60, D)):
        ranked = fused([left, right], k=k)
        assert ranked.index(first) < ranked.index(({A, D} - {first}).pop()), k


def test_a_course_vector_is_unit_length_and_leans_to_its_lessons() -> None:
    summary = unit(1, 0, 0).reshape(1, -1)
    lessons = np.stack([unit(0, 1, 0), unit(0, 1, 0)])
    vector = course_vector(summary, lessons)
    assert vector.shape == (1, 3)
    assert np.isclose(np.linalg.norm(vector), 1.0)
    assert np.allclose(vector[0], unit(1, 1, 0))
    alone = course_vector(summary, np.zeros((0, 3), dtype=np.float32))
    assert np.allclose(alone[0], summary[0])
