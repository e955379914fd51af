"""The wall clock as services read it, passed in so that tests can move time instead of
waiting for it: seconds since the epoch, as :func:`time.time` (the default everywhere)."""

from __future__ import annotations

from collections.abc import Callable

Clock = Callable[[], float]
