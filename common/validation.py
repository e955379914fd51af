"""Checks every domain applies to what clients send; each failure names the field."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from common.errors import BadUserInput

TAG_CHARACTERS: Final = re.compile(r"[a-z0-9+#.]+")


def text(value: str, *, field: str, low: int, high: int) -> str:
    """`value` with runs of whitespace collapsed, between `low` and `high` characters."""
    cleaned = " ".join(value.split())
    if not low <= len(cleaned) <= high:
        raise BadUserInput(f"{field} must be {low} to {high} characters long.", field=field)
    return cleaned


def tags(values: Sequence[str], *, limit: int, owner: str, field: str = "tags") -> list[str]:
    """Lowercase, hyphenated, deduplicated and sorted tags ("Data Science" → "data-science")."""
    normalised = sorted({"-".join(TAG_CHARACTERS.findall(tag.lower())) for tag in values})
    if any(not tag or len(tag) > 50 for tag in normalised):
        raise BadUserInput("Each tag must be 1 to 50 letters or digits.", field=field)
    if len(normalised) > limit:
        raise BadUserInput(f"{owner} can have at most {limit} tags.", field=field)
    return normalised
