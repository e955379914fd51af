"""Bounds of the analytics fields' arguments, refused as BAD_USER_INPUT."""

from __future__ import annotations

from typing import Final

from common.errors import BadUserInput

MAX_WEEKS: Final = 104
MAX_DAYS: Final = 366
MAX_LEARNERS: Final = 500


def bounded(value: int, name: str, maximum: int) -> int:
    if not 1 <= value <= maximum:
        raise BadUserInput(f"{name} must be from 1 to {maximum}.", field=name)
    return value
