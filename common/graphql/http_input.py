"""Requests a subgraph's GraphQL endpoint refuses before Strawberry reads them: a POST without
a JSON (or multipart) Content-Type (415, as GraphQL over HTTP says), and a URL whose
parameters are not UTF-8 (Starlette would silently replace those bytes with U+FFFD)."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import Scope

from common.graphql.limits import error_body

ACCEPTED_CONTENT_TYPES = ("application/json", "multipart/form-data")
UNSUPPORTED_MEDIA_TYPE = "INVALID_CONTENT_TYPE_HEADER"


class Refusal(Exception):
    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = error_body(message, code)


def _content_type(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return str(value.decode("latin-1").split(";")[0].strip().lower())
    return ""


def _check_query_string(query_string: bytes) -> None:
    for pair in query_string.replace(b"+", b" ").split(b"&"):
        try:
            unquote_to_bytes(pair).decode()
        except UnicodeDecodeError:
            raise Refusal(400, "The query string is not valid UTF-8.", "BAD_REQUEST") from None


def check_http_request(scope: Scope) -> None:
    """Raises `Refusal` for a request the endpoint must not read."""
    if scope["method"] == "GET":
        _check_query_string(scope["query_string"])
    elif scope["method"] == "POST":
        content_type = _content_type(scope)
        if not content_type:
            message = "The request has no Content-Type header; send application/json."
            raise Refusal(415, message, UNSUPPORTED_MEDIA_TYPE)
        if content_type not in ACCEPTED_CONTENT_TYPES:
            message = f"Unsupported content type {content_type!r}; send application/json."
            raise Refusal(415, message, UNSUPPORTED_MEDIA_TYPE)
