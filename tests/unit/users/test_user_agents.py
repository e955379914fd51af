"""A session's device in words, from its User-Agent header."""

from __future__ import annotations

import pytest

from subgraphs.users.user_agents import MAX_LENGTH, bounded, describe


@pytest.mark.parametrize(
    ("header", "device"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Chrome on macOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox on Linux",
        ),
        ("curl/8.5.0", "curl"),
        ("<script>alert(1)</script>", "Unknown browser"),
        (None, "Unknown device"),
        ("", "Unknown device"),
    ],
)
def test_the_device_is_told_in_words(header: str | None, device: str) -> None:
    assert describe(header) == device


def test_a_header_is_stored_bounded_and_without_control_characters() -> None:
    assert bounded("a\x00b\r\nc\x7f" + "x" * 10_000) == ("abc" + "x" * 10_000)[:MAX_LENGTH]
    assert bounded(" \t ") is None
    assert bounded(None) is None
