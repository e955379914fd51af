"""Building `_entities` representations from the objects a fetch will extend."""

from typing import Any

from router.planning.nodes import EntityInput, InputField, InputFragment, InputSelection

_MISSING = object()


def _extract(value: Any, selections: tuple[InputSelection, ...]) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [_extract(item, selections) for item in value]
    if not isinstance(value, dict):
        return value
    result: dict[str, Any] = {}
    if not _fill(value, selections, result):
        return _MISSING
    return result


def _matches(obj: dict[str, Any], fragment: InputFragment) -> bool:
    typename = obj.get("__typename")
    return typename == fragment.type_condition or typename in fragment.typenames


def _fill(
    obj: dict[str, Any], selections: tuple[InputSelection, ...], into: dict[str, Any]
) -> bool:
    for selection in selections:
        if isinstance(selection, InputField):
            item = obj.get(selection.key or selection.name, _MISSING)
            if item is _MISSING:
                if selection.name == "__typename":
                    continue
                return False
            if selection.selections is not None:
                item = _extract(item, selection.selections)
                if item is _MISSING:
                    return False
            into[selection.name] = item
        elif _matches(obj, selection) and not _fill(obj, selection.selections, into):
            return False
    return True


def representation(obj: dict[str, Any], entity_input: EntityInput) -> dict[str, Any] | None:
    result: dict[str, Any] = {}
    flat = entity_input.flat
    if flat is None:
        if not _fill(obj, entity_input.selections, result):
            return None
    else:  # `_fill` for scalar fields alone, the usual key
        for name, key in flat:
            item = obj.get(key, _MISSING)
            if item is _MISSING:
                if name == "__typename":
                    continue
                return None
            result[name] = item
    result["__typename"] = entity_input.representation_typename
    return result


def selected(obj: dict[str, Any], selections: tuple[InputSelection, ...]) -> dict[str, Any] | None:
    """The values `selections` pick from `obj`, or None when one of them is missing."""
    result: dict[str, Any] = {}
    return result if _fill(obj, selections, result) else None
