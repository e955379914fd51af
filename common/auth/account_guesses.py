"""The per-account bar on password guessing, across every client address (OWASP's advice:
delays rather than a lockout, so nobody can lock an account they do not own).

An account takes at most ``per_hour`` wrong passwords an hour from client addresses it has
not signed in from (its known devices). Past half of them, each further guess waits a
delay that doubles (1 s, 2 s, 4 s … at most :data:`MAX_DELAY`); at the bar, the next one
waits until the oldest guess is an hour old. Either wait is ``RATE_LIMITED`` with the
seconds to wait, and the password is not even checked. A known device is never held back
by this bar (only by its own count, :mod:`common.auth.throttle`), so the owner signs in
while an attacker sprays from a hundred addresses.

A guess is booked before the password is checked (one Redis script: the bar cannot be
crossed by guesses in flight together) and handed back when the password was right. Keys
are hashed: no e-mail or client address is stored in Redis.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid

from redis.asyncio import Redis

from common.clock import Clock
from common.errors import RateLimited

HOUR = 3600
MAX_DELAY = 60  # seconds: the longest delay before the bar
KNOWN_FOR = 90 * 24 * 3600  # a device stays known this long after its last sign-in

# KEYS[1]: the account's guesses (a sorted set: booking id -> time). ARGV: now, per hour,
# max delay, booking id. Returns 0 when the guess is booked, else the seconds to wait.
BOOK_SCRIPT = """
local now, limit, max_delay = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 3600)
local count = redis.call('ZCARD', KEYS[1])
local wait = 0
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  wait = tonumber(oldest[2]) + 3600 - now
elseif count >= math.floor(limit / 2) and count > 0 then
  local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  local delay = math.min(max_delay, 2 ^ (count - math.floor(limit / 2)))
  wait = tonumber(newest[2]) + delay - now
end
if wait > 0 then return tostring(wait) end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], 3600)
return '0'
"""


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


class AccountGuesses:
    def __init__(self, redis: Redis, per_hour: int, *, clock: Clock = time.time) -> None:
        self._redis = redis
        self._per_hour = per_hour
        self._clock = clock

    def _known_key(self, account: str, address: str) -> str:
        return f"sign-in:known:{_digest(account.strip().lower(), address)}"

    async def known(self, account: str, address: str | None) -> bool:
        """Whether the account has signed in from this client address."""
        return address is not None and bool(
            await self._redis.exists(self._known_key(account, address))
        )

    async def book(self, account: str) -> str:
        """Book a guess at the account's password from an unknown device: its booking id, or
        RATE_LIMITED with the seconds to wait."""
        booking = uuid.uuid4().hex
        key = f"sign-in:guesses:{_digest(account.strip().lower())}"
        now = self._clock()
        answer = await self._redis.eval(
            BOOK_SCRIPT, 1, key, repr(now), self._per_hour, MAX_DELAY, booking
        )
        wait = math.ceil(float(answer))
        if wait > 0:
            raise RateLimited(
                "Too many failed sign-ins for this account from new devices; "
                f"try again in {wait} seconds.",
                retry_after=wait,
            )
        return booking

    async def signed_in(self, account: str, address: str | None, booking: str | None) -> None:
        """The password was right: the booked guess is handed back and the device is known."""
        if booking is not None:
            key = f"sign-in:guesses:{_digest(account.strip().lower())}"
            await self._redis.zrem(key, booking)
        if address is not None:
            await self._redis.set(self._known_key(account, address), "1", ex=KNOWN_FOR)
