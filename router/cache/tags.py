"""What a cache entry holds, as tags an invalidation message names: `T:<type>` for each
entity type in it, `K:<type>:<field>=<JSON value>` for each of its entities' key fields
(as representations and the messages write them: `{"id": "<uuid>"}`), and `U:<type>` for an
entity whose key the answer does not hold (`{ course(id: $id) { title } }`): which one it
is cannot be told, so a message naming any entity of its type drops it."""

import re
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    FieldNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    parse,
)

from router import jsonio
from router.lru import LRU
from router.supergraph.model import Supergraph

_KEY_FIELD = re.compile(r"\b(\w+)\b")


def type_tag(typename: str) -> str:
    return f"T:{typename}"


def key_tag(typename: str, field: str, value: Any) -> str:
    return f"K:{typename}:{field}={jsonio.dumps_sorted(value).decode()}"


def unkeyed_tag(typename: str) -> str:
    return f"U:{typename}"


def message_tags(typename: str, key: Mapping[str, Any] | None) -> frozenset[str]:
    """The tags an entry must carry to be dropped by a message naming `typename` (and `key`)."""
    if key is None:
        return frozenset((type_tag(typename),))
    return frozenset(key_tag(typename, field, value) for field, value in key.items())


def representation_tags(representation: Mapping[str, Any]) -> frozenset[str]:
    typename = str(representation["__typename"])
    tags = {type_tag(typename)}
    tags.update(
        key_tag(typename, field, value)
        for field, value in representation.items()
        if field != "__typename" and not isinstance(value, dict | list)
    )
    return frozenset(tags)


# A fetch's selection by response key: the field's name and what is selected under it.
Selection = dict[str, tuple[str, "Selection"]]


def _selection(node: SelectionSetNode | None) -> Selection:
    found: Selection = {}
    for selection in node.selections if node is not None else ():
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            inner = _selection(selection.selection_set)
            if key in found:
                inner = {**found[key][1], **inner}
            found[key] = (selection.name.value, inner)
        elif isinstance(selection, InlineFragmentNode):
            for key, (name, inner) in _selection(selection.selection_set).items():
                found[key] = (name, {**found[key][1], **inner} if key in found else inner)
    return found


class AnswerTags:
    """The tags of a root field's answer: the entities in it, found by walking it along the
    fetch's operation (aliases included) and the schema (or by `__typename`)."""

    def __init__(self, supergraph: Supergraph) -> None:
        self.schema: GraphQLSchema = supergraph.api_schema
        self.key_fields: dict[str, frozenset[str]] = {
            name: frozenset(
                field
                for join in info.joins
                if join.key
                for field in _KEY_FIELD.findall(join.key.split("{")[0])
            )
            for name, info in supergraph.types.items()
            if info.is_entity()
        }
        self._selections: LRU[str, Selection] = LRU(1024)

    def of(self, data: Any, operation: str) -> frozenset[str]:
        """The tags of `data`, a query's root fetch `operation`'s answer."""
        selection = self._selections.get(operation)
        if selection is None:
            [definition] = parse(operation).definitions
            assert isinstance(definition, OperationDefinitionNode)
            selection = _selection(definition.selection_set)
            self._selections.put(operation, selection)
        tags: set[str] = set()
        for typename, obj, selected in self._objects(data, self.schema.query_type, selection):
            key_fields = self.key_fields.get(typename)
            if key_fields is None:
                continue
            tags.add(type_tag(typename))
            keyed = False
            for key, value in obj.items():
                field = selected[key][0] if key in selected else key
                if field in key_fields and value is not None and not isinstance(value, dict | list):
                    tags.add(key_tag(typename, field, value))
                    keyed = True
            if not keyed:
                tags.add(unkeyed_tag(typename))
        return frozenset(tags)

    def _objects(
        self, value: Any, parent: Any, selection: Selection
    ) -> Iterator[tuple[str, dict[str, Any], Selection]]:
        if isinstance(value, list):
            for item in value:
                yield from self._objects(item, parent, selection)
            return
        if not isinstance(value, dict):
            return
        typename = value.get("__typename")
        if isinstance(typename, str):
            parent = self.schema.get_type(typename) or parent
        if isinstance(parent, GraphQLObjectType):
            yield parent.name, value, selection
        fields = getattr(parent, "fields", None) or {}
        for key, child in value.items():
            if isinstance(child, dict | list):
                name, inner = selection.get(key, (key, {}))
                field = fields.get(name)
                child_type = get_named_type(field.type) if field else None
                yield from self._objects(child, child_type, inner)
