"""The prepared documents a subgraph keeps are bounded: in number, oldest dropped first, and
in size, a text too long to be a real operation never kept."""

from __future__ import annotations

from graphql import parse

from common.graphql.prepared import MAX_PREPARED_CHARS, PreparedDocuments


def test_the_oldest_text_goes_first() -> None:
    documents = PreparedDocuments(max_size=2)
    for name in ("a", "b", "c"):
        documents.remember(f"{{ {name} }}", parse(f"{{ {name} }}"))
    assert len(documents) == 2
    assert documents.get("{ a }") is None
    assert documents.get("{ c }") is not None
    assert documents.get(None) is None


def test_a_text_too_long_is_not_kept() -> None:
    documents = PreparedDocuments()
    query = "{ a }" + "#" * MAX_PREPARED_CHARS
    documents.remember(query, parse(query))
    assert documents.get(query) is None
    assert len(documents) == 0
