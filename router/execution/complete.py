"""Completing the merged data into the client's response: null propagation as the spec says."""

from collections.abc import Mapping
from typing import Any

from router.execution.failures import FetchFailure, settle
from router.execution.merge import PathLink, path_of
from router.execution.shape import Selection, ShapeField, TypeRef

_BUBBLE = object()  # a null that must propagate to the nearest nullable position
_MISSING = object()  # a field no fetch delivered
# A value the subgraphs should have delivered and did not: the router reports it itself.
INVALID_RESPONSE = "SUBGRAPH_INVALID_RESPONSE"


class Completer:
    def __init__(self, abstract: frozenset[str], errors: list[dict[str, Any]]) -> None:
        self.abstract = abstract
        self.errors = errors
        paths = [tuple(e["path"]) for e in errors if isinstance(e.get("path"), list)]
        self.error_paths = set(paths)
        # A null at any of these paths is already explained by an error at or below it.
        self.explained = {path[:end] for path in paths for end in range(len(path) + 1)}
        # An error without a path (a subgraph that failed as a whole) explains every field
        # its fetch did not deliver; an error inside an object explains the fields missing
        # from it (the subgraph nulled the entity those fields came with).
        self.fetch_explained = frozenset(self.explained)
        # A failed fetch's error above an object explains it too (the one error at the point
        # in the response where a failed fetch's many entities sit).
        self.failed_above = frozenset(
            tuple(e["path"])
            for e in errors
            if isinstance(e, FetchFailure) and isinstance(e.get("path"), list)
        )
        self.failed_fetch = any(not isinstance(e.get("path"), list) for e in errors)

    def _error(
        self,
        message: str,
        link: PathLink,
        *,
        unless_explained: bool = False,
        code: str = INVALID_RESPONSE,
    ) -> None:
        path = tuple(path_of(link))
        if path in self.error_paths or (unless_explained and path in self.explained):
            return
        self.error_paths.add(path)
        self.explained.update(path[:end] for end in range(len(path) + 1))
        self.errors.append({"message": message, "path": list(path), "extensions": {"code": code}})

    def complete_root(self, data: Mapping[str, Any], selection: Selection) -> Any:
        result = self.complete_object(data, selection, selection.type_name, None)
        result = None if result is _BUBBLE else result
        settle(result, self.errors)
        return result

    def complete_object(
        self, obj: Mapping[str, Any], selection: Selection, runtime: str, link: PathLink
    ) -> Any:
        fields = selection.by_type.get(runtime) or selection.fields_for(runtime)
        if fields is None:
            self._error(f"cannot complete a value of type {runtime}", link)
            return None
        abstract = self.abstract
        if runtime in abstract and any(f.name == "__typename" for f in fields):
            return self._untyped(runtime, link)
        result: dict[str, Any] = {}
        object_explained: bool | None = None
        for shape_field in fields:
            key = shape_field.key
            if shape_field.plain:  # most fields: a scalar, taken as it is unless null
                value = obj.get(key)
                if value is not None:
                    result[key] = value
                    continue
            refused = shape_field.refused
            if refused is not None:
                self._error(refused.message, (link, key) if key else link, code=refused.code)
                if not key:
                    continue
            if shape_field.type is None:
                result[key] = runtime
                continue
            value = _MISSING if refused is not None else obj.get(key, _MISSING)
            explained = False
            if value is _MISSING:
                value = None
                if object_explained is None:
                    object_explained = self._explained_object(link)
                explained = object_explained or refused is not None
            ref = shape_field.type
            below = ref.object_selection
            if below is not None and isinstance(value, dict) and below.type_name not in abstract:
                # an object of a concrete type: completed in one call, not three
                at = (link, key)
                completed = self.complete_object(value, below, below.type_name, at)
                if completed is None or completed is _BUBBLE:
                    non_null = ref.kind == "non_null"
                    completed = self._null_object(completed, non_null, explained, shape_field, at)
                    if completed is _BUBBLE:
                        return _BUBBLE
                result[key] = completed
                continue
            value = self.complete_value(value, ref, shape_field, (link, key), explained=explained)
            if value is _BUBBLE:
                return _BUBBLE
            result[key] = value
        return result

    def _concrete(self, ref: TypeRef) -> tuple[Selection, bool] | None:
        """The selection of an object type (not abstract) `ref` is, maybe non-null, and
        whether it is non-null; None for any other type."""
        selection = ref.object_selection
        if selection is None or selection.type_name in self.abstract:
            return None
        return selection, ref.kind == "non_null"

    def _null_object(
        self, completed: Any, non_null: bool, explained: bool, owner: ShapeField, link: PathLink
    ) -> Any:
        """What an object that completed to null (None) or to a null to propagate (_BUBBLE)
        is at a position of its type, as `complete_value` says."""
        if not non_null:
            return None
        if completed is None and not explained:
            self._error(
                f"Cannot return null for non-nullable field {owner.parent}.{owner.name}.",
                link,
                unless_explained=True,
            )
        return _BUBBLE

    def _explained_object(self, link: PathLink) -> bool:
        """Whether fields missing from the object at `link` are explained by an error."""
        if self.failed_fetch:
            return True
        path = tuple(path_of(link))
        return path in self.fetch_explained or any(
            path[:end] in self.failed_above for end in range(len(path))
        )

    def _untyped(self, abstract: str, link: PathLink) -> Any:
        """An object whose concrete type no fetch delivered (the fetch that had to learn it
        failed) cannot answer `__typename`: it is null, never typed as the abstract type."""
        if not self._explained_object(link):
            self._error(f"no subgraph gave the concrete type of this {abstract} object.", link)
        return _BUBBLE

    def complete_value(
        self, value: Any, ref: TypeRef, owner: ShapeField, link: PathLink, explained: bool = False
    ) -> Any:
        if ref.kind != "non_null":
            completed = self._complete_nullable(value, ref, owner, link)
            return None if completed is _BUBBLE else completed
        assert ref.of is not None
        completed = self._complete_nullable(value, ref.of, owner, link)
        if completed is None:
            if explained:
                return _BUBBLE
            self._error(
                f"Cannot return null for non-nullable field {owner.parent}.{owner.name}.",
                link,
                unless_explained=True,
            )
            return _BUBBLE
        return completed

    def _complete_nullable(
        self, value: Any, ref: TypeRef, owner: ShapeField, link: PathLink
    ) -> Any:
        if value is None:
            return None
        kind = ref.kind
        if kind == "leaf":
            return value
        if kind == "enum":
            if value in ref.enum_values:
                return value
            self._error(f"Enum value {value!r} is not part of the API schema.", link)
            return None
        if kind == "list":
            if not isinstance(value, list):
                self._error(f"Expected a list for field {owner.parent}.{owner.name}.", link)
                return None
            assert ref.of is not None
            items = []
            item_ref = ref.of
            concrete = self._concrete(item_ref)  # objects: each in one call, not three
            for index, item in enumerate(value):
                if concrete is not None and isinstance(item, dict):
                    below, non_null = concrete
                    at = (link, index)
                    completed = self.complete_object(item, below, below.type_name, at)
                    if completed is None or completed is _BUBBLE:
                        completed = self._null_object(completed, non_null, False, owner, at)
                else:
                    completed = self.complete_value(item, item_ref, owner, (link, index))
                if completed is _BUBBLE:
                    return _BUBBLE
                items.append(completed)
            return items
        selection = ref.selection
        assert selection is not None
        if not isinstance(value, dict):
            self._error("Expected an object.", link)
            return None
        runtime = selection.type_name
        if runtime in self.abstract:
            typename = value.get("__typename")
            runtime = typename if isinstance(typename, str) else runtime
        return self.complete_object(value, selection, runtime, link)
