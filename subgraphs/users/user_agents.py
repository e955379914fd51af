"""A `User-Agent` header, bounded and told in words ("Firefox on Windows") for a session list.

Only the common browsers and systems are named; anything else is "Unknown browser" or
"unknown system": the raw header is shown beside it, so nothing is lost by guessing less."""

from __future__ import annotations

import re
from typing import Final

MAX_LENGTH: Final = 512
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# first match wins: Edge and Opera also say Chrome, Chrome also says Safari
_BROWSERS: Final = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
    ("python-httpx/", "python-httpx"),
)
_SYSTEMS: Final = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def bounded(header: str | None) -> str | None:
    """The header as stored: control characters dropped, at most `MAX_LENGTH` characters."""
    if header is None:
        return None
    text = _CONTROL.sub("", header).strip()[:MAX_LENGTH]
    return text or None


def describe(user_agent: str | None) -> str:
    if not user_agent:
        return "Unknown device"
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "Unknown browser")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    return browser if system is None else f"{browser} on {system}"
