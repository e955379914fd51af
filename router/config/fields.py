"""Walking the configuration model: the sections a key holds, and the keys a section has."""

import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel


def members(annotation: Any) -> tuple[Any, ...]:
    """The types of a union (`X | Y`, `Optional`), or the type itself."""
    if get_origin(annotation) in (Union, types.UnionType):
        return get_args(annotation)
    return (annotation,)


def sections(annotation: Any) -> list[type[BaseModel]]:
    """The sections a key holds: itself, the items of its list, the values of its map."""
    found = []
    for member in members(annotation):
        origin = get_origin(member)
        inner = get_args(member)
        if origin is tuple or origin is dict:
            found += sections(inner[0] if origin is tuple else inner[1])
        elif isinstance(member, type) and issubclass(member, BaseModel):
            found.append(member)
    return found


def keys_at(model: type[BaseModel], path: tuple[str | int, ...]) -> set[str]:
    """The keys the sections at ``path`` under ``model`` have (``path`` as an error's
    location gives it: list indexes and the names in maps included)."""
    current = [model]
    a_name_next = False
    for part in path:
        if isinstance(part, int):
            continue
        if a_name_next:
            a_name_next = False
            continue
        below: list[type[BaseModel]] = []
        for section in current:
            field = section.model_fields.get(part)
            if field is not None:
                below += sections(field.annotation)
                a_name_next |= any(get_origin(m) is dict for m in members(field.annotation))
        current = below
    return {name for section in current for name in section.model_fields}
