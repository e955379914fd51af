"""A fetch that failed as a whole (the subgraph unreachable, a circuit open, a bulkhead
full…): one error on each response path the fetch would have filled."""

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from graphql import FieldNode, InlineFragmentNode, OperationDefinitionNode, SelectionSetNode, parse

from router.execution.errors import subgraph_error
from router.execution.merge import Path, sees_error
from router.planning.contextual import ALIAS_SUFFIX
from router.planning.nodes import FetchNode

# Errors of one failed entity fetch on its entities' paths; past them, one error at the
# point in the response where all its entities sit.
MAX_PATHS_PER_FETCH = 100

# The fields an `_entities` fetch selects, per type condition (None: on every type).
EntityFields = tuple[tuple[str | None, tuple[str, ...]], ...]


def _field_names(
    selections: SelectionSetNode, into: dict[str | None, list[str]], on: str | None
) -> None:
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            name = (selection.alias or selection.name).value
            # a context value the router selects for another fetch: no client field
            internal = name == "__typename" or name.endswith(ALIAS_SUFFIX)
            if not internal and name not in into.setdefault(on, []):
                into[on].append(name)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else on
            _field_names(selection.selection_set, into, condition)


def _top_selection(operation: str) -> SelectionSetNode:
    definition = parse(operation, no_location=True).definitions[0]
    assert isinstance(definition, OperationDefinitionNode)
    return definition.selection_set


@lru_cache(maxsize=512)
def _root_fields(operation: str) -> tuple[str, ...]:
    names: dict[str | None, list[str]] = {}
    _field_names(_top_selection(operation), names, None)
    return tuple(name for found in names.values() for name in found)


@lru_cache(maxsize=512)
def _entity_fields(operation: str) -> EntityFields:
    entities = _top_selection(operation).selections[0]
    assert isinstance(entities, FieldNode)
    assert entities.selection_set is not None
    names: dict[str | None, list[str]] = {}
    _field_names(entities.selection_set, names, None)
    return tuple((on, tuple(found)) for on, found in names.items())


def root_paths(fetch: FetchNode) -> list[Path]:
    """The root fields a root fetch resolves."""
    return [[name] for name in _root_fields(fetch.operation)]


def entity_paths(
    fetch: FetchNode, typename: Any, objects: Iterable[tuple[dict[str, Any], Path]]
) -> Iterable[Path]:
    """The fields an entity fetch adds to each object (its representation typed
    `typename`), under the object's path; the object's own path when it selects none."""
    fields = [
        name
        for on, names in _entity_fields(fetch.operation)
        if on in (None, typename)
        for name in names
    ]
    for obj, owner in objects:
        seen = [
            n
            for n in fields
            if not fetch.scoped or sees_error([n], obj.get("__typename"), fetch.scoped)
        ]
        if not seen:
            yield owner
        for name in seen:
            yield [*owner, name]


def _merge_point(paths: list[Path]) -> Path:
    """The longest path every one of `paths` starts with."""
    common = paths[0] if paths else []
    for path in paths[1:]:
        end = 0
        while end < min(len(common), len(path)) and common[end] == path[end]:
            end += 1
        common = common[:end]
    return common


class FetchFailure(dict[str, Any]):
    """An error of a failed fetch (`fetch`: the same object for all of one fetch's errors);
    its path is settled against the completed response (`settle`)."""

    def __init__(self, error: dict[str, Any], fetch: object) -> None:
        super().__init__(error)
        self.fetch = fetch


def failed_fetch_errors(
    message: str,
    code: str,
    service: str,
    paths: Iterable[Path],
    owners: list[Path],
) -> list[dict[str, Any]]:
    """One error per distinct path (the response names the client asked), at most
    MAX_PATHS_PER_FETCH, then one at the merge point of `owners` (the objects the fetch
    would have extended; none for a root fetch)."""
    raw = {"message": message, "extensions": {"code": code}}
    failure = object()  # this fetch's, shared by its errors
    errors: dict[tuple[str | int, ...], dict[str, Any]] = {}
    for path in paths:
        error = FetchFailure(subgraph_error(raw, service, path), failure)
        errors.setdefault(tuple(error["path"]), error)
        if len(errors) > MAX_PATHS_PER_FETCH:
            kept = list(errors.values())[:MAX_PATHS_PER_FETCH]
            merge_point = subgraph_error(raw, service, _merge_point(owners) or None)
            return [*kept, FetchFailure(merge_point, failure)]
    return list(errors.values())


def _held(data: Any, path: Path) -> Path:
    """The longest start of `path` the response holds (all of it, below a null)."""
    value = data
    for end, part in enumerate(path):
        if value is None:
            return path
        if isinstance(part, int):
            held = isinstance(value, list) and 0 <= part < len(value)
        else:
            held = isinstance(value, dict) and part in value
        if not held:
            return path[:end]
        value = value[part]
    return path


def settle(data: Any, errors: list[dict[str, Any]]) -> None:
    """A failed fetch's error on a field the response does not hold (skipped by @skip or
    @include, or fetched only as another fetch's input) moves up to the nearest one it
    holds, and goes when another error of that fetch is already there or below."""
    failures = [e for e in errors if isinstance(e, FetchFailure) and "path" in e]
    settled = {id(e): _held(data, e["path"]) for e in failures}
    gone: set[int] = set()
    for error in failures:
        at = settled[id(error)]
        if at == error["path"]:
            continue
        if any(
            other is not error
            and other.fetch is error.fetch
            and id(other) not in gone
            and settled[id(other)][: len(at)] == at
            for other in failures
        ):
            gone.add(id(error))
        elif at:
            error["path"] = at
        else:
            del error["path"]
    if gone:
        errors[:] = [e for e in errors if id(e) not in gone]
