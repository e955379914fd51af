"""Walking and merging the response tree the fetches fill in."""

from typing import Any

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
