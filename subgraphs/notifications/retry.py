"""When a failed delivery is tried again: exponential backoff, capped, with jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: float = 1.0
    factor: float = 2.0
    max_delay_seconds: float = 300.0
    jitter: float = 0.2  # ± this fraction, so retries of a burst do not land together

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1 is the first)."""
        raw = min(self.max_delay_seconds, self.base_seconds * self.factor ** max(0, attempt - 1))
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return max(0.0, raw * (1 + spread))

    def gives_up(self, attempt: int) -> bool:
        return attempt >= self.max_attempts
