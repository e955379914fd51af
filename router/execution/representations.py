"""Building `_entities` representations from the objects a fetch will extend."""

from collections.abc import Callable, Mapping
from typing import Any

from router import jsonio
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


def input_for(inputs: tuple[EntityInput, ...], typename: Any) -> EntityInput | None:
    """The input that turns an object of type `typename` (None: not known) into a
    representation, if any."""
    for entity_input in inputs:
        if typename is None or typename in entity_input.typenames:
            return entity_input
    return None


def dedupe_key(rep: dict[str, Any]) -> Any:
    """What tells a representation from another (its items, or its JSON when a value is not
    hashable)."""
    items = tuple(rep.items())
    try:
        hash(items)
    except TypeError:
        return jsonio.dumps_sorted(rep)
    return items


Grouped = tuple[list[dict[str, Any]], list[list[dict[str, Any]]], list[list[int]]]
_TypeEntry = tuple[
    EntityInput | None, dict[Any, int] | None, Callable[[Mapping[str, Any]], Any] | None
]


def _type_entry(
    inputs: tuple[EntityInput, ...], typename: Any, flat_seen: dict[Any, dict[Any, int]]
) -> _TypeEntry:
    """For objects of type `typename` in `grouped`: the input, and with a flat one the
    table of the representations made by key values (shared by the inputs with the same
    type and key names) and the getter of those values."""
    entity_input = input_for(inputs, typename)
    if entity_input is None or entity_input.flat_values is None:
        return entity_input, None, None
    table = flat_seen.setdefault(entity_input.flat_names, {})
    return entity_input, table, entity_input.flat_values


def grouped(walked: list[dict[str, Any]], inputs: tuple[EntityInput, ...]) -> Grouped:
    """The distinct representations of the objects `walked` that an input takes, each with
    its objects and their positions in `walked` (for a fetch without contextual arguments).

    Most objects repeat a representation already made (the same product under many
    reviews): with a flat input (`EntityInput.flat_values`) they are told apart by their key
    values, one table per representation type and key names, and a representation is built
    only for a new one."""
    representations: list[dict[str, Any]] = []
    targets: list[list[dict[str, Any]]] = []
    owners: list[list[int]] = []
    seen: dict[Any, int] = {}  # by `dedupe_key`
    flat_seen: dict[Any, dict[Any, int]] = {}  # by `flat_names`, then by key values
    # by __typename: its input (None: no input takes it), that input's flat table and key
    # values getter; the last type met is kept aside (objects of one type come in runs)
    by_type: dict[Any, _TypeEntry] = {}
    last_typename: Any = _MISSING
    last: _TypeEntry = (None, None, None)
    position = -1
    for obj in walked:
        position += 1
        typename = obj.get("__typename")
        if typename is last_typename or (
            last_typename is not _MISSING and typename == last_typename
        ):
            entry = last
        else:
            try:
                entry = by_type[typename]
            except KeyError:
                entry = by_type[typename] = _type_entry(inputs, typename, flat_seen)
            except TypeError:  # not a name: no input takes it
                continue
            last_typename, last = typename, entry
        entity_input, table, flat_values = entry
        if entity_input is None:
            continue
        rep: dict[str, Any] | None = None
        key: Any = None
        index: int | None = None
        if flat_values is not None:
            try:
                key = flat_values(obj)
                index = table.get(key) if table is not None else None
            except (KeyError, TypeError):  # a key field missing, or a value not hashable
                key = None
        if key is None:
            table = None
            rep = representation(obj, entity_input)
            if rep is None:
                continue
            key = dedupe_key(rep)
            index = seen.get(key)
        if index is None:
            if rep is None:
                rep = representation(obj, entity_input)
                if rep is None:  # (cannot be: every key field is there)
                    continue
            index = len(representations)
            if table is not None:
                table[key] = index
            else:
                seen[key] = index
            representations.append(rep)
            targets.append([obj])
            owners.append([position])
        else:
            targets[index].append(obj)
            owners[index].append(position)
    return representations, targets, owners
