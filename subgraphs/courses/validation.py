"""Checks on what clients send to the courses subgraph: each failure names the field."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence
from typing import Final

from common import validation as common_validation
from common.errors import BadUserInput
from common.validation import text

SLUG: Final = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LANGUAGE: Final = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
MAX_TAGS: Final = 20
MAX_CO_INSTRUCTORS: Final = 20


def title(value: str, field: str = "title") -> str:
    return text(value, field=field, low=3, high=200)


def slug(value: str, field: str = "slug") -> str:
    if not 3 <= len(value) <= 120 or not SLUG.match(value):
        raise BadUserInput(
            f"{field} must be 3 to 120 lowercase letters, digits and single hyphens.",
            field=field,
        )
    return value


def slugify(value: str) -> str:
    """A slug from a title: ASCII words joined by hyphens ("Intro to C++" → "intro-to-c")."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    candidate = "-".join(words)[:100].strip("-")
    return candidate if len(candidate) >= 3 else f"course-{uuid.uuid4().hex[:8]}"


def tags(values: Sequence[str]) -> list[str]:
    return common_validation.tags(values, limit=MAX_TAGS, owner="A course")


def language(value: str) -> str:
    if not LANGUAGE.match(value) or len(value) > 35:
        raise BadUserInput("language must be a language tag such as en or pt-BR.", field="language")
    return value


def co_instructors(values: Sequence[uuid.UUID], owner: uuid.UUID) -> list[uuid.UUID]:
    unique = list(dict.fromkeys(value for value in values if value != owner))
    if len(unique) > MAX_CO_INSTRUCTORS:
        raise BadUserInput(
            f"A course can have at most {MAX_CO_INSTRUCTORS} co-instructors.",
            field="coInstructorIds",
        )
    return unique


def order(requested: Sequence[uuid.UUID], existing: Sequence[uuid.UUID], *, field: str) -> None:
    """A reorder must name every existing item exactly once."""
    if len(requested) != len(set(requested)) or set(requested) != set(existing):
        raise BadUserInput(
            f"{field} must list every item exactly once ({len(existing)} items).", field=field
        )


def comment(value: str | None, *, required: bool) -> str | None:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise BadUserInput("Say why: comment is required.", field="comment")
    if len(cleaned) > 5000:
        raise BadUserInput("comment must be at most 5000 characters.", field="comment")
    return cleaned or None
