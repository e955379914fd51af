"""Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA1, 6 digits, 30 s steps.

What every authenticator app (Google Authenticator, 1Password, Authy…) computes from the
secret in an ``otpauth://`` URI. A code is accepted for the current step and one step either
side (clock drift), and only for a step later than the last one accepted, so a code seen
once (over a shoulder, in a proxy log) cannot be replayed. HMAC-SHA1 is what RFC 6238 and
every app default to; HMAC does not rest on SHA-1's collision resistance, which is what broke.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

DIGITS = 6
PERIOD = 30  # seconds per step
DRIFT_STEPS = 1  # steps accepted either side of now
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends for HMAC-SHA1
ISSUER = "LMS"


def new_secret() -> str:
    """A random secret in base32 without padding, as authenticator apps expect it."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    return base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, digest: str = "sha1") -> str:
    """RFC 4226: HMAC of the 8-byte counter, dynamically truncated to ``digits`` digits."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def step_at(moment: float) -> int:
    return int(moment // PERIOD)


def code_of_step(secret: str, step: int) -> str:
    return hotp(_key(secret), step)


def code_at(secret: str, moment: float | None = None) -> str:
    """The code an authenticator app shows for this secret at this Unix time (now)."""
    return code_of_step(secret, step_at(time.time() if moment is None else moment))


def matching_step(
    secret: str, code: str, *, after: int | None, moment: float | None = None
) -> int | None:
    """The step whose code this is, within the drift window and later than ``after``."""
    now = step_at(time.time() if moment is None else moment)
    key = _key(secret)
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        # every candidate is computed and compared, so timing says nothing about which matched
        if hmac.compare_digest(hotp(key, step), code) and (after is None or step > after):
            found = step
    return found


def provisioning_uri(secret: str, account: str) -> str:
    """The ``otpauth://totp/…`` URI an app reads from a QR code (Key Uri Format)."""
    label = quote(f"{ISSUER}:{account}", safe=":@")
    parameters = {
        "secret": secret,
        "issuer": ISSUER,
        "algorithm": "SHA1",
        "digits": DIGITS,
        "period": PERIOD,
    }
    return f"otpauth://totp/{label}?{urlencode(parameters, quote_via=quote)}"
