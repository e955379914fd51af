"""GraphQL errors as plain JSON values: the one shape every layer of the router answers with."""

from typing import Any


def error(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, **extensions}}
