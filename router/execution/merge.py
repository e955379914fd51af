"""Walking and merging the response tree the fetches fill in."""

from collections.abc import Callable
from typing import Any

from router.planning.nodes import ScopedAlias

Path = list[str | int]
# A response path as a chain of links, (parent link, key or index), the root None: cheap
# to extend for every object walked, turned into a `Path` only where an error needs one.
PathLink = tuple[Any, str | int] | None


def deep_merge(target: dict[str, Any], source: dict[str, Any], abstract: frozenset[str]) -> None:
    for key, value in source.items():
        current = target.get(key)
        if current is None:  # most of an entity's fields: new to the object
            target[key] = value
        elif isinstance(current, dict) and isinstance(value, dict):
            deep_merge(current, value, abstract)
        elif isinstance(current, list) and isinstance(value, list) and len(current) == len(value):
            for index, item in enumerate(value):
                if isinstance(current[index], dict) and isinstance(item, dict):
                    deep_merge(current[index], item, abstract)
                else:
                    current[index] = item
        elif key == "__typename" and current is not None and value in abstract:
            continue
        else:
            target[key] = value


def merge_into(
    objects: list[dict[str, Any]], source: dict[str, Any], abstract: frozenset[str]
) -> None:
    """`deep_merge` of `source` into each of `objects` (an entity into the objects it
    extends)."""
    for target in objects:
        deep_merge(target, source, abstract)


def rescoped(
    entity: dict[str, Any], typename: Any, scoped: "tuple[ScopedAlias, ...]"
) -> dict[str, Any]:
    """An entity as one object of type `typename` sees it: each scoped alias back under its
    key for the types it was fetched for, and gone for the others."""
    result: Any = entity
    for scoped_alias in scoped:
        result = _renamed(result, scoped_alias, scoped_alias.path, typename)
    return dict(result)


def _renamed(value: Any, scoped: "ScopedAlias", path: tuple[str, ...], typename: Any) -> Any:
    """`value` with `scoped.alias` at `path` renamed to its key (or dropped, for other
    types); what it passes through is copied, never changed in place."""
    if isinstance(value, list):
        rest = path[1:] if path and path[0] == "@" else path
        return [_renamed(item, scoped, rest, typename) for item in value]
    if not isinstance(value, dict):
        return value
    if path:
        if path[0] not in value:
            return value
        return {**value, path[0]: _renamed(value[path[0]], scoped, path[1:], typename)}
    if scoped.alias not in value:
        return value
    result = {key: item for key, item in value.items() if key != scoped.alias}
    if typename in scoped.typenames:
        result[scoped.key] = value[scoped.alias]
    return result


def sees_error(at: list[Any], typename: Any, scoped: "tuple[ScopedAlias, ...]") -> bool:
    """Whether an error at entity field `at` (empty: the entity) concerns an object of type
    `typename`: not one under a scoped alias of other types, nor under a key its type takes
    from a scoped alias."""
    keys = [p for p in at if isinstance(p, str)]
    for scoped_alias in scoped:
        where = [p for p in scoped_alias.path if p != "@"]
        if keys[: len(where) + 1] == [*where, scoped_alias.alias]:
            return typename in scoped_alias.typenames
        if keys[: len(where) + 1] == [*where, scoped_alias.key] and (
            typename in scoped_alias.typenames
        ):
            return False
    return True


def path_of(link: PathLink) -> Path:
    """The response path a chain of `(parent link, key or index)` links ends at."""
    parts: Path = []
    while link is not None:
        link, part = link
        parts.append(part)
    parts.reverse()
    return parts


def objects_at(data: Any, path: tuple[str, ...]) -> list[dict[str, Any]]:
    """The objects at `path` ("@" steps into a list; a list met elsewhere is stepped into
    too), in the order `linked_objects_at` finds them. Walked level by level, without the
    objects' paths: a fetch's objects are many, and their paths are seldom needed
    (`paths_of` finds them again for an error)."""
    level: list[Any] = [data]
    for segment in path:
        below: list[Any] = []
        add = below.append
        if segment == "@":
            for value in level:
                if isinstance(value, list):
                    for item in value:
                        if item is not None:
                            add(item)
        else:
            for value in level:
                if isinstance(value, dict):
                    item = value.get(segment)
                    if item is not None:
                        add(item)
                elif isinstance(value, list):
                    pairs: list[tuple[Any, PathLink]] = []
                    _into_list(value, None, segment, pairs.append)
                    below.extend(item for item, _ in pairs)
        level = below
    found: list[dict[str, Any]] = []
    for value in level:
        if isinstance(value, dict):
            found.append(value)
        elif isinstance(value, list):
            found.extend(obj for obj, _ in _linked_objects_in(value, None))
    return found


def paths_of(data: Any, path: tuple[str, ...], objects: list[dict[str, Any]]) -> list[Path | None]:
    """The response path of each of `objects` (what `objects_at(data, path)` found, in its
    order), walked again: the same objects in the same order unless a fetch merged into the
    tree in between (a parallel one), then each is found by identity, and one the tree no
    longer holds (a list it was in replaced) has no path (None)."""
    linked = linked_objects_at(data, path)
    if len(linked) == len(objects) and all(
        obj is found for (found, _), obj in zip(linked, objects, strict=True)
    ):
        return [path_of(link) for _, link in linked]
    by_identity: dict[int, list[PathLink]] = {}
    for found, link in linked[::-1]:  # (not reversed(): mypyc cannot compile it here)
        by_identity.setdefault(id(found), []).append(link)
    result: list[Path | None] = []
    for obj in objects:
        remaining = by_identity.get(id(obj))
        result.append(path_of(remaining.pop()) if remaining else None)
    return result


def linked_objects_at(data: Any, path: tuple[str, ...]) -> list[tuple[dict[str, Any], PathLink]]:
    """`objects_at`, each object with the link its response path is built from
    (`path_of`)."""
    level: list[tuple[Any, PathLink]] = [(data, None)]
    for segment in path:
        below: list[tuple[Any, PathLink]] = []
        add = below.append
        if segment == "@":
            for value, link in level:
                if isinstance(value, list):
                    for index, item in enumerate(value):
                        if item is not None:
                            add((item, (link, index)))
        else:
            for value, link in level:
                if isinstance(value, dict):
                    item = value.get(segment)
                    if item is not None:
                        add((item, (link, segment)))
                elif isinstance(value, list):
                    _into_list(value, link, segment, add)
        level = below
    found: list[tuple[dict[str, Any], PathLink]] = []
    for value, link in level:
        if isinstance(value, dict):
            found.append((value, link))
        elif isinstance(value, list):
            found.extend(_linked_objects_in(value, link))
    return found


def _into_list(
    items: list[Any], link: PathLink, segment: str, add: Callable[[tuple[Any, PathLink]], None]
) -> None:
    """`segment` of each object in a list not marked by "@" (lists in it stepped into)."""
    for index, item in enumerate(items):
        if isinstance(item, dict):
            value = item.get(segment)
            if value is not None:
                add((value, ((link, index), segment)))
        elif isinstance(item, list):
            _into_list(item, (link, index), segment, add)


def _linked_objects_in(items: list[Any], link: PathLink) -> list[tuple[dict[str, Any], PathLink]]:
    """The objects in a list and the lists in it, each with its link."""
    found: list[tuple[dict[str, Any], PathLink]] = []
    for index, item in enumerate(items):
        if isinstance(item, dict):
            found.append((item, (link, index)))
        elif isinstance(item, list):
            found.extend(_linked_objects_in(item, (link, index)))
    return found


def unalias(value: Any, marker: str, abstract: frozenset[str]) -> Any:
    """Rename `<key><marker><n>` response keys back to `<key>`, merging where both exist."""
    if isinstance(value, list):
        return [unalias(item, marker, abstract) for item in value]
    if not isinstance(value, dict):
        return value
    result: dict[str, Any] = {}
    for key, item in value.items():
        item = unalias(item, marker, abstract)
        original = key.split(marker, 1)[0]
        current = result.get(original)
        if isinstance(current, dict) and isinstance(item, dict):
            deep_merge(current, item, abstract)
        elif item is not None or original not in result:
            result[original] = item
    return result
