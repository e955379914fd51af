"""The wall clock of the session's users subgraph, which tests move instead of waiting.

It reads the real time plus how far tests have moved it, so it only ever goes forward.
One-time codes (subgraphs/users/totp.py steps) and sign-in lockouts (common/auth/throttle.py)
are read on it; tokens, challenges and everything else keep the real clock.
"""

from __future__ import annotations

import re
import time
from typing import Any


class MovableClock:
    def __init__(self) -> None:
        self._ahead = 0.0

    def __call__(self) -> float:
        return time.time() + self._ahead

    def advance(self, seconds: float) -> None:
        assert seconds >= 0, "the clock only goes forward"
        self._ahead += seconds


USERS_CLOCK = MovableClock()


def seconds_to_wait(body: dict[str, Any]) -> int:
    """The wait a RATE_LIMITED answer announces ("try again in N seconds")."""
    found = re.search(r"try again in (\d+) seconds", body["errors"][0]["message"])
    assert found, body
    return int(found.group(1))
