"""Walking and merging the response tree the fetches fill in."""

from typing import Any

from router.planning.nodes import ScopedAlias

Path = list[str | int]


def deep_merge(target: dict[str, Any], source: dict[str, Any], abstract: frozenset[str]) -> None:
    for key, value in source.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
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


def rescoped(
    entity: dict[str, Any], typename: Any, scoped: "tuple[ScopedAlias, ...]"
) -> dict[str, Any]:
    """An entity as one object of type `typename` sees it: each scoped alias back under its
    key for the types it was fetched for, and gone for the others."""
    aliases = {s.alias for s in scoped}
    result = {key: value for key, value in entity.items() if key not in aliases}
    for scoped_alias in scoped:
        if scoped_alias.alias in entity and typename in scoped_alias.typenames:
            result[scoped_alias.key] = entity[scoped_alias.alias]
    return result


def sees_error(at: list[Any], typename: Any, scoped: "tuple[ScopedAlias, ...]") -> bool:
    """Whether an error at entity field `at` (empty: the entity) concerns an object of type
    `typename`: not one under a scoped alias of other types, nor under a key its type takes
    from a scoped alias."""
    if not at:
        return True
    for scoped_alias in scoped:
        if at[0] == scoped_alias.alias:
            return typename in scoped_alias.typenames
        if at[0] == scoped_alias.key and typename in scoped_alias.typenames:
            return False
    return True


def objects_at(data: Any, path: tuple[str, ...]) -> list[tuple[dict[str, Any], Path]]:
    found: list[tuple[dict[str, Any], Path]] = []

    def walk(value: Any, depth: int, at: Path) -> None:
        if value is None:
            return
        if depth == len(path):
            if isinstance(value, dict):
                found.append((value, at))
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    walk(item, depth, [*at, index])
            return
        segment = path[depth]
        if segment == "@":
            if isinstance(value, list):
                for index, item in enumerate(value):
                    walk(item, depth + 1, [*at, index])
            return
        if isinstance(value, dict):
            walk(value.get(segment), depth + 1, [*at, segment])
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, depth, [*at, index])

    walk(data, 0, [])
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
