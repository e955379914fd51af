"""ISO 8601 durations as xAPI writes them (`PT1H2M3S`), in whole seconds."""

from __future__ import annotations

import re
from typing import Final

PATTERN: Final = re.compile(
    r"P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?"
)
UNITS: Final = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}


def parse_duration(text: str) -> int | None:
    """Whole seconds of `text` (rounded), or None when it is no ISO 8601 duration."""
    match = PATTERN.fullmatch(text.strip().upper())
    if match is None or not any(match.groupdict().values()) or text.strip().upper().endswith("T"):
        return None
    total = sum(float(value) * UNITS[unit] for unit, value in match.groupdict().items() if value)
    return round(total)


def format_duration(seconds: int) -> str:
    """`PT#H#M#S`, leaving out what is zero (`PT0S` for none)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}H" if hours else "",
        f"{minutes}M" if minutes else "",
        f"{secs}S" if secs else "",
    ]
    return "PT" + ("".join(parts) or "0S")
