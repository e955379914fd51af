"""The one mapping from exceptions to client errors with ``extensions.code``.

Domain errors keep their message and code; graphql-core's own errors get the code Apollo
uses for them; anything else is logged with its traceback and reaches the client only as
``INTERNAL_SERVER_ERROR``.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from common.errors import DomainError, ErrorCode, RateLimited

log = logging.getLogger(__name__)

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
INTERNAL_MESSAGE = "Internal server error."


def _code_of_graphql_error(error: GraphQLError) -> str:
    if error.message.startswith("Syntax Error"):
        return PARSE_FAILED
    if error.message.startswith("Variable '$") or "got invalid value" in error.message:
        return ErrorCode.BAD_USER_INPUT
    if error.path is None:
        return VALIDATION_FAILED
    return ErrorCode.INTERNAL_SERVER_ERROR


def client_error(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    extensions: dict[str, Any]
    if isinstance(original, DomainError):
        message = original.message
        extensions = {"code": original.code.value}
        if original.field is not None:
            extensions["field"] = original.field
        if isinstance(original, RateLimited) and original.retry_after is not None:
            extensions["retryAfter"] = original.retry_after
    elif original is None or isinstance(original, GraphQLError):
        message = error.message
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", _code_of_graphql_error(error))
    else:
        log.error("unexpected error in resolver", exc_info=original, extra={"path": error.path})
        message = INTERNAL_MESSAGE
        extensions = {"code": ErrorCode.INTERNAL_SERVER_ERROR.value}
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


class ClientErrors(MaskErrors):
    """Rewrites every error of a result through :func:`client_error`."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda _: True)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return client_error(error)
