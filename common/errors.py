"""Domain errors: what went wrong, in words a client can act on, and its error code.

The service layer raises these; the GraphQL edge turns them into errors with
``extensions.code`` (see common/graphql/errors.py). Nothing here knows about GraphQL.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    EVENTS_MISSED = "EVENTS_MISSED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class DomainError(Exception):
    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL_SERVER_ERROR

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Unauthenticated(DomainError):
    code = ErrorCode.UNAUTHENTICATED


class Forbidden(DomainError):
    code = ErrorCode.FORBIDDEN


class BadUserInput(DomainError):
    code = ErrorCode.BAD_USER_INPUT


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class Conflict(DomainError):
    code = ErrorCode.CONFLICT


class RateLimited(DomainError):
    """Refused for now; ``retry_after``: whole seconds until trying again can succeed
    (``extensions.retryAfter``), when known."""

    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A third party we depend on (an identity provider) cannot serve the request now."""

    code = ErrorCode.SERVICE_UNAVAILABLE


class EventsMissed(DomainError):
    """A live stream was interrupted: events may have been missed; a query catches up."""

    code = ErrorCode.EVENTS_MISSED
