"""The pieces of plagiarism detection on their own: lexing, winnowing, MinHash bands,
spans and clusters."""

from __future__ import annotations

import uuid

from subgraphs.assessments.plagiarism.analysis import analyse_code, analyse_text
from subgraphs.assessments.plagiarism.clusters import clusters_of
from subgraphs.assessments.plagiarism.compare import containment, matched_spans
from subgraphs.assessments.plagiarism.fingerprints import Winnowing, kgrams, winnow
from subgraphs.assessments.plagiarism.tokens import code_tokens, text_tokens

SOURCE = """def area(width, height):
    # the rectangle's area
    return width * height  # simple
"""
RENAMED = """def surface(w,h):
    return w*h
"""


def test_code_tokens_forget_names_literals_comments_and_layout() -> None:
    assert [t.text for t in code_tokens(SOURCE)] == [t.text for t in code_tokens(RENAMED)]
    assert [t.text for t in code_tokens("x = 'a' + 3.5\n")] == ["V", "=", "L", "+", "L", ";"]
    assert [t.text for t in code_tokens("for i in x:\n    pass\n")][:4] == ["for", "V", "in", "V"]


def test_code_tokens_keep_their_place_and_what_lexed_before_an_error() -> None:
    tokens = code_tokens(SOURCE)
    assert SOURCE[tokens[1].start : tokens[1].end] == "area"
    broken = code_tokens("y = 1\nz = (\n")
    assert [t.text for t in broken][:4] == ["V", "=", "L", ";"]


def test_text_tokens_are_lower_cased_words_with_their_place() -> None:
    text = "Hello, World!"
    tokens = text_tokens(text)
    assert [t.text for t in tokens] == ["hello", "world"]
    assert text[tokens[1].start : tokens[1].end] == "World"


def test_winnowing_keeps_a_hash_of_every_long_enough_shared_run() -> None:
    params = Winnowing(k=3, window=4)
    words = text_tokens(" ".join(f"w{i}" for i in range(60)))
    shared = words[20 : 20 + params.k + params.window - 1]
    kept = {fp.hash for fp in winnow(words, params)}
    assert {fp.hash for fp in kgrams(shared, params.k)} & kept
    assert len(kept) < len(kgrams(words, params.k))


def test_starter_code_is_left_out_of_an_answers_fingerprints() -> None:
    starter = "def area(width, height):\n    result = 0\n    return result\n"
    with_starter = analyse_code(SOURCE + starter, starter)
    alone = analyse_code(starter, starter)
    assert alone.fingerprints == []
    assert with_starter.fingerprints


def test_near_copies_share_a_band_and_unrelated_texts_do_not() -> None:
    text = " ".join(f"word{i}" for i in range(80))
    near = text.replace("word40", "other").replace("word70", "thing")
    unrelated = " ".join(f"term{i}" for i in range(80))
    keys = set(analyse_text(text).band_keys)
    assert keys & set(analyse_text(near).band_keys)
    assert not keys & set(analyse_text(unrelated).band_keys)


def test_matched_spans_pair_the_same_code_on_both_sides() -> None:
    left_text = "import os\n\n" + SOURCE + "\n\nprint(area(2, 3))\n"
    left, right = analyse_code(left_text), analyse_code(SOURCE)
    assert containment(left.hashes, right.hashes) == 1.0
    spans = matched_spans(left.fingerprints, right.fingerprints)
    assert spans
    for span in spans:
        assert (
            left_text[span.left.start : span.left.end] == SOURCE[span.right.start : span.right.end]
        )
    assert all(span.left.start >= len("import os\n\n") for span in spans)


def test_clusters_join_attempts_linked_by_pairs() -> None:
    a, b, c, d, e = (uuid.uuid4() for _ in range(5))
    groups = clusters_of([(a, b, 0.9), (b, c, 0.6), (d, e, 0.7)])
    assert [set(g.members) for g in groups] == [{a, b, c}, {d, e}]
    assert [g.score for g in groups] == [0.9, 0.7]
