"""What a cache entry holds, as tags an invalidation message names: `T:<type>` for each
entity type in it, `K:<type>:<field>=<JSON value>` for each of its entities' key fields
(as representations and the messages write them: `{"id": "<uuid>"}`)."""

import re
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema, get_named_type

from router import jsonio
from router.supergraph.model import Supergraph

_KEY_FIELD = re.compile(r"\b(\w+)\b")


def type_tag(typename: str) -> str:
    return f"T:{typename}"


def key_tag(typename: str, field: str, value: Any) -> str:
    return f"K:{typename}:{field}={jsonio.dumps_sorted(value).decode()}"


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


class AnswerTags:
    """The tags of a root field's answer: the entities in it, found by walking it along the
    schema (or by `__typename` where the schema cannot tell)."""

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

    def of(self, data: Any, root: str) -> frozenset[str]:
        tags: set[str] = set()
        for typename, obj in self._objects(data, self.schema.get_type(root)):
            if typename not in self.key_fields:
                continue
            tags.add(type_tag(typename))
            for field in self.key_fields[typename]:
                value = obj.get(field)
                if value is not None and not isinstance(value, dict | list):
                    tags.add(key_tag(typename, field, value))
        return frozenset(tags)

    def _objects(self, value: Any, parent: Any) -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(value, list):
            for item in value:
                yield from self._objects(item, parent)
            return
        if not isinstance(value, dict):
            return
        typename = value.get("__typename")
        if isinstance(typename, str):
            parent = self.schema.get_type(typename) or parent
        if isinstance(parent, GraphQLObjectType):
            yield parent.name, value
        fields = getattr(parent, "fields", None) or {}
        for name, child in value.items():
            if isinstance(child, dict | list):
                field = fields.get(name)
                yield from self._objects(child, get_named_type(field.type) if field else None)
