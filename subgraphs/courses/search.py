"""The course search index and how a query is turned into a tsquery."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.errors import BadUserInput

# Search index: title and tags weigh most (A), then the description (B), then lesson text (C).
_REFRESH_SEARCH = text(
    """
    UPDATE courses SET search =
        setweight(to_tsvector('english', title || ' ' || array_to_string(tags, ' ')), 'A')
        || setweight(to_tsvector('english', regexp_replace(description_html, '<[^>]*>', ' ', 'g')), 'B')
        || setweight(to_tsvector('english', coalesce((
            SELECT string_agg(l.title || ' ' || regexp_replace(l.body_html, '<[^>]*>', ' ', 'g'), ' ')
            FROM lessons l WHERE l.course_id = courses.id), '')), 'C')
    WHERE id = :course_id
    """  # noqa: E501
)
# The course's text changed: its embedding is due again (embedding.py).
_EMBEDDING_DUE = text(
    """
    INSERT INTO course_embeddings (course_id) VALUES (:course_id)
    ON CONFLICT (course_id) DO UPDATE SET revision = course_embeddings.revision + 1
    """
)
CATEGORY_SUBTREE = text(
    """
    WITH RECURSIVE tree(id) AS (
        SELECT id FROM categories WHERE id = :root
        UNION ALL SELECT c.id FROM categories c JOIN tree ON c.parent_id = tree.id
    ) SELECT id FROM tree
    """
)


async def refresh_search(session: AsyncSession, course_id: uuid.UUID) -> None:
    """Index the course's text again, for full-text and (by the worker) semantic search."""
    await session.execute(_REFRESH_SEARCH, {"course_id": course_id})
    await session.execute(_EMBEDDING_DUE, {"course_id": course_id})


def search_terms(query: str) -> str:
    """A prefix-matching tsquery from the words of a query ("pyth intro" → "pyth:* & intro:*")."""
    words = re.findall(r"\w+", query.lower())[:10]
    if not words:
        raise BadUserInput("search needs at least one word.", field="query")
    return " & ".join(f"{word[:50]}:*" for word in words)
