"""The maths of recommendations (subgraphs/analytics/recommendations/similarity.py), the
reasons they give, and the TF-IDF fallback of content similarity (common/ai/tfidf.py)."""

from __future__ import annotations

import math
import uuid

import numpy as np
import pytest

from common.ai.tfidf import TfidfIndex, tfidf_vectors, words
from subgraphs.analytics.recommendations.catalogue import CatalogueCourse
from subgraphs.analytics.recommendations.reasons import reasons
from subgraphs.analytics.recommendations.similarity import (
    CoCount,
    Evidence,
    Weights,
    blend,
    collaborative,
    content,
    cosine,
    item_similarity,
    jaccard,
    popularity,
    shrunk,
)


def test_cosine_jaccard_and_shrinkage() -> None:
    assert cosine(4, 16, 4) == pytest.approx(4 / 8)
    assert jaccard(4, 16, 4) == pytest.approx(4 / 16)
    assert cosine(0, 16, 4) == jaccard(0, 16, 4) == 0.0
    assert cosine(3, 0, 4) == 0.0  # no learners: no similarity, no division by zero
    # Shrinkage: one co-taker's perfect overlap counts less than fifty's good one.
    assert shrunk(1.0, 1) == pytest.approx(1 / 6)
    assert shrunk(0.5, 50) == pytest.approx(0.5 * 50 / 55)
    assert item_similarity(CoCount(1), 1, 1) < item_similarity(CoCount(50), 100, 100)
    # Co-takers who completed the source count up to half as much again.
    half = item_similarity(CoCount(10, completed=5), 20, 20)
    assert half == pytest.approx(item_similarity(CoCount(10), 20, 20) * 1.25)


def test_collaborative_sums_over_the_courses_taken_and_names_the_strongest() -> None:
    counts = {
        ("basics", "ml"): CoCount(8, completed=8),
        ("pandas", "ml"): CoCount(2),
        ("pandas", "sql"): CoCount(6),
        ("basics", "pandas"): CoCount(9),  # taken already: never a target
    }
    takers = {"basics": 10, "pandas": 10, "ml": 10, "sql": 10}
    found = collaborative({"basics", "pandas"}, counts, takers)
    assert set(found) == {"ml", "sql"}
    ml = item_similarity(CoCount(8, 8), 10, 10) + item_similarity(CoCount(2), 10, 10)
    assert found["ml"].score == pytest.approx(ml)
    assert (found["ml"].source, found["ml"].completed) == ("basics", True)
    assert (found["sql"].source, found["sql"].completed) == ("pandas", False)
    assert collaborative(set(), counts, takers) == {}


def test_content_takes_the_best_match_and_popularity_is_logarithmic() -> None:
    similar = {("a", "x"): 0.4, ("b", "x"): 0.7, ("a", "y"): 0.3, ("a", "b"): 0.9}
    found = content({"a", "b"}, similar)
    assert found == {"x": Evidence(0.7, "b"), "y": Evidence(0.3, "a")}
    ranks = popularity({"big": 99, "small": 9, "none": 0})
    assert ranks == {"big": 1.0, "small": pytest.approx(math.log(10) / math.log(100))}
    assert popularity({}) == {}


def test_blend_scales_each_kind_excludes_taken_and_orders_stably() -> None:
    by_cf = {"ml": Evidence(2.0, "basics"), "sql": Evidence(1.0, "pandas")}
    by_content = {"sql": Evidence(0.3, "pandas"), "viz": Evidence(0.15, "pandas")}
    popular = {"ml": 0.5, "sql": 0.5, "viz": 0.2, "basics": 1.0, "intro": 0.9}
    found = blend(by_cf, by_content, popular, exclude={"basics"}, first=10)
    scores = {item.course: item.score for item in found}
    assert "basics" not in scores
    assert scores["ml"] == pytest.approx(0.7 * 1.0 + 0.1 * 0.5)
    assert scores["sql"] == pytest.approx(0.7 * 0.5 + 0.2 * 1.0 + 0.1 * 0.5)
    assert scores["viz"] == pytest.approx(0.2 * 0.5 + 0.1 * 0.2)
    assert [item.course for item in found] == ["ml", "sql", "viz", "intro"]
    assert [item.course for item in blend(by_cf, by_content, popular, first=2)] == [
        "ml",
        "sql",
    ]
    # Popularity alone (a new learner), and ties broken by popularity then by key.
    cold = blend({}, {}, {"b": 0.5, "a": 0.5, "c": 0.9}, weights=Weights(0, 0, 1))
    assert [item.course for item in cold] == ["c", "a", "b"]
    assert blend({}, {}, {}) == []


def test_reasons_say_how_and_from_which_course() -> None:
    basics, pandas, ml, sql = (uuid.uuid4() for _ in range(4))

    def course(course_id: uuid.UUID, title: str, category: str | None) -> CatalogueCourse:
        return CatalogueCourse(course_id, title, "PUBLISHED", False, category)

    courses = {
        basics: course(basics, "Python Basics", "Programming"),
        pandas: course(pandas, "Pandas", "Data"),
        ml: course(ml, "Machine Learning", "Data"),
        sql: course(sql, "SQL", "Databases"),
    }
    [both] = blend(
        {ml: Evidence(1.0, basics, completed=True)}, {ml: Evidence(0.5, pandas)}, {}, first=1
    )
    assert reasons(both, courses, {"Data"}) == [
        "Learners who completed Python Basics also took this",
        "Similar to Pandas",
    ]
    [took] = blend({ml: Evidence(1.0, uuid.uuid4())}, {}, {})
    assert reasons(took, courses, set()) == ["Learners who took a course you took also took this"]
    popular = blend({}, {}, {ml: 1.0, sql: 0.5})
    assert [reasons(item, courses, {"Data"}) for item in popular] == [
        ["Popular in Data"],
        ["Popular with learners"],
    ]


def test_tfidf_finds_shared_rare_words_and_ignores_common_ones() -> None:
    assert words("An Introduction to Data-Analysis with pandas, 2nd ed.") == [
        "data",
        "analysis",
        "pandas",
        "2nd",
        "ed",
    ]
    vectors = tfidf_vectors(
        [
            "Data analysis with pandas",
            "Pandas workshop: data frames",
            "Cooking for beginners",
            "Introduction to the course",  # nothing but stop words
        ]
    )
    assert vectors.shape[0] == 4
    assert np.linalg.norm(vectors[:3], axis=1) == pytest.approx([1.0, 1.0, 1.0])
    assert not vectors[3].any()
    scores = vectors @ vectors.T
    assert scores[0, 1] > 0.3
    assert scores[0, 2] == 0.0
    assert tfidf_vectors([]).shape[0] == 0


def test_a_fitted_tfidf_index_answers_as_the_vectors_and_weighs_unseen_words() -> None:
    corpus = [
        "Data analysis with pandas",
        "Pandas workshop: data frames",
        "Cooking for beginners",
        "Introduction to the course",
    ]
    index = TfidfIndex(corpus)
    assert len(index) == 4
    vectors = tfidf_vectors(corpus)
    assert index.similarities(corpus) == pytest.approx(vectors @ vectors.T, abs=1e-6)
    asked = index.similarities(["pandas data", "pandas data zebra giraffe", "zebra", "the"])
    assert asked[0, 0] > asked[1, 0] > 0.0  # words the corpus lacks make a text less alike
    assert not asked[2:].any()  # nothing shared; only stop words
    assert TfidfIndex([]).similarities(["pandas"]).shape == (1, 0)
