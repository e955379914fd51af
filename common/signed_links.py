"""Signed, expiring links: an HMAC over what a link opens, its purpose and its expiry.

A link carries `expires` (Unix seconds) and `signature`; whoever holds it may fetch the
thing until it expires, without a session. The purpose keeps a signature for one kind of
link from opening another kind with the same id.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

from starlette.responses import JSONResponse, Response


def signature(secret: str, purpose: str, subject: str, expires: int) -> str:
    message = f"{purpose}:{subject}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_query(secret: str, purpose: str, subject: str, expires: int) -> str:
    """`expires=…&signature=…` for a link to `subject`."""
    return urlencode(
        {"expires": expires, "signature": signature(secret, purpose, subject, expires)}
    )


def link_problem(
    secret: str, purpose: str, subject: str, expires: str, given: str, now: float | None = None
) -> str | None:
    """None when the link is valid now; else what to tell its holder (one line)."""
    try:
        deadline = int(expires)
    except ValueError:
        return "The download link is not valid."
    if not hmac.compare_digest(signature(secret, purpose, subject, deadline), given):
        return "The download link is not valid."
    if deadline < (time.time() if now is None else now):
        return "The download link has expired; ask for a new one."
    return None


def refusal(status: int, message: str, code: str) -> Response:
    """A file route's refusal: one message with its code, as GraphQL errors are shaped."""
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status)
