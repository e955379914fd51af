"""Two counts over the last few seconds (requests and failures, requests and retries), kept in
slots that leave the window together: constant memory whatever the traffic."""

import collections
import time
from collections.abc import Callable

Clock = Callable[[], float]  # monotonic seconds


class SlidingCounts:
    def __init__(self, span: float, clock: Clock = time.monotonic, slots: int = 10) -> None:
        self._width = span / slots if span > 0 else 1.0
        self._slots = slots
        self._clock = clock
        self._kept: collections.deque[list[int]] = collections.deque()  # [slot, first, second]
        self._first = 0
        self._second = 0

    def _current(self) -> list[int]:
        slot = int(self._clock() // self._width)
        while self._kept and self._kept[0][0] <= slot - self._slots:
            _, first, second = self._kept.popleft()
            self._first -= first
            self._second -= second
        if not self._kept or self._kept[-1][0] != slot:
            self._kept.append([slot, 0, 0])
        return self._kept[-1]

    def add(self, first: int = 0, second: int = 0) -> None:
        counts = self._current()
        counts[1] += first
        counts[2] += second
        self._first += first
        self._second += second

    def totals(self) -> tuple[int, int]:
        self._current()
        return self._first, self._second

    def clear(self) -> None:
        self._kept.clear()
        self._first = self._second = 0
