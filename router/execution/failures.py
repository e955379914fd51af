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
            internal = name == "__typename" or name.endswith(ALIAS_SUFFIX)  # no client's
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


def failed_fetch_errors(
    message: str, code: str, service: str, paths: Iterable[Path], owners: list[Path]
) -> list[dict[str, Any]]:
    """One error per distinct path (the response names the client asked), at most
    MAX_PATHS_PER_FETCH, then one at the merge point of `owners` (the objects the fetch
    would have extended; none for a root fetch)."""
    raw = {"message": message, "extensions": {"code": code}}
    errors: dict[tuple[str | int, ...], dict[str, Any]] = {}
    for path in paths:
        error = subgraph_error(raw, service, path)
        errors.setdefault(tuple(error["path"]), error)
        if len(errors) > MAX_PATHS_PER_FETCH:
            kept = list(errors.values())[:MAX_PATHS_PER_FETCH]
            return [*kept, subgraph_error(raw, service, _merge_point(owners) or None)]
    return list(errors.values())
