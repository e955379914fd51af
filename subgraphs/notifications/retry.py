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

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_seconds < 0 or self.max_delay_seconds < 0:
            raise ValueError("base_seconds and max_delay_seconds must not be negative")
        if self.factor < 1:
            raise ValueError("factor must be at least 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be a fraction in [0, 1)")

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1 is the first).

        base * factor ** (attempt - 1), capped at max_delay_seconds, then spread by ± jitter:
        the result lies in [capped * (1 - jitter), capped * (1 + jitter)].
        """
        try:
            raw = self.base_seconds * self.factor ** max(0, attempt - 1)
        except OverflowError:  # a float cannot hold factor ** attempt: far past the cap anyway
            raw = self.max_delay_seconds
        raw = min(raw, self.max_delay_seconds)
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return max(0.0, raw * (1 + spread))

    def gives_up(self, attempt: int) -> bool:
        """True once `attempt` failed attempts are all this policy allows."""
        return attempt >= self.max_attempts
