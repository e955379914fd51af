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
