"""A request header read straight from the ASGI scope, for the middlewares each request
passes through: the first value of a name, as Starlette's `Headers.get` gives it (names in
a scope are lower-case; `Headers` assumes so too), without building a `Headers` in every
middleware and lowering and encoding the name at each look-up."""

from collections.abc import Iterable

from starlette.types import Message, Scope


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the lower-case header ``name``, None without one."""
    value = first_value(scope["headers"], name)
    return None if value is None else value.decode("latin-1")


class _StartHeaders(list[tuple[bytes, bytes]]):
    """A response start message's own header list (copied into it once, then changed in
    place by every middleware the answer passes through)."""


def response_headers(message: Message) -> list[tuple[bytes, bytes]]:
    """The header list of an `http.response.start` message, to read and change: a copy put
    in the message the first time (the application's own list is left alone, as
    `MutableHeaders(scope=message)` leaves it), the same list after that."""
    headers = message.get("headers")
    if not isinstance(headers, _StartHeaders):
        message["headers"] = headers = _StartHeaders(headers or ())
    return headers


def first_value(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The first value of the lower-case header ``name`` in a header list, None without one."""
    for key, value in headers:
        if key == name:
            return value
    return None


def set_header(headers: list[tuple[bytes, bytes]], name: bytes, value: bytes) -> None:
    """``name`` (lower-case) set to ``value``, in the place of its first entry (its others
    dropped) or last: as `MutableHeaders.__setitem__` sets it."""
    found = [index for index, (key, _) in enumerate(headers) if key == name]
    if not found:
        headers.append((name, value))
        return
    for index in reversed(found[1:]):
        del headers[index]
    headers[found[0]] = (name, value)


def delete_header(headers: list[tuple[bytes, bytes]], name: bytes) -> None:
    headers[:] = [item for item in headers if item[0] != name]


def add_vary(headers: list[tuple[bytes, bytes]], value: bytes) -> None:
    """``value`` added to the answer's Vary, as `MutableHeaders.add_vary_header` adds it."""
    set_header(headers, b"vary", b", ".join([*(v for k, v in headers if k == b"vary"), value]))
