"""The time as services read it: `now()` for stored timestamps (an aware datetime in UTC),
and `Clock`, the wall clock passed in so that tests can move time instead of waiting for it:
seconds since the epoch, as :func:`time.time` (the default everywhere)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]


def now() -> datetime:
    return datetime.now(UTC)
