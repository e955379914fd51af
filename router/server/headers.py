"""A request header read straight from the ASGI scope, for the middlewares each request
passes through: the first value of a name, as Starlette's `Headers.get` gives it (names in
a scope are lower-case; `Headers` assumes so too), without building a `Headers` in every
middleware and lowering and encoding the name at each look-up."""

from starlette.types import Scope


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the lower-case header ``name``, None without one."""
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None
