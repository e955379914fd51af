"""Expanded stage: each subgraph's federation metadata (keys, externals, shareability...)."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql.language import BooleanValueNode, StringValueNode, ValueNode

from router.federation.typerefs import named_type

from .fieldset import Selection, parse_field_set, walk
from .model import Directive, TypeDef, applied, has
from .subgraph import Subgraph

Coordinate = tuple[str, str]


@dataclass(frozen=True)
class Key:
    fields: str
    selections: tuple[Selection, ...] | None
    resolvable: bool
    explicit_resolvable: bool = False


@dataclass(frozen=True)
class Override:
    source: str
    label: str | None


@dataclass
class Expanded:
    subgraph: Subgraph
    keys: dict[str, list[Key]] = field(default_factory=dict)
    external: set[Coordinate] = field(default_factory=set)
    key_fields: set[Coordinate] = field(default_factory=set)
    requires_fields: set[Coordinate] = field(default_factory=set)
    provided: set[Coordinate] = field(default_factory=set)
    shareable: set[Coordinate] = field(default_factory=set)
    overrides: dict[Coordinate, Override] = field(default_factory=dict)
    interface_objects: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.subgraph.name

    @property
    def types(self) -> dict[str, TypeDef]:
        return self.subgraph.types

    def is_entity(self, type_name: str) -> bool:
        return bool(self.keys.get(type_name))

    def resolves(self, coordinate: Coordinate) -> bool:
        """Whether this subgraph resolves the field itself (not @external, or @provides'd)."""
        return coordinate not in self.external or coordinate in self.provided


def string_arg(directive: Directive, name: str) -> str | None:
    value: ValueNode | None = directive.args.get(name)
    return value.value if isinstance(value, StringValueNode) else None


def bool_arg(directive: Directive, name: str, default: bool) -> bool:
    value = directive.args.get(name)
    return value.value if isinstance(value, BooleanValueNode) else default


def _coordinates(
    selections: tuple[Selection, ...] | None, parent: str, types: dict[str, TypeDef]
) -> set[Coordinate]:
    if selections is None:
        return set()
    return {(step.parent, step.name) for step in walk(selections, parent, types)}


def expand(subgraph: Subgraph) -> Expanded:
    result = Expanded(subgraph)
    types = subgraph.types
    for typedef in types.values():
        keys = [
            Key(
                string_arg(d, "fields") or "",
                parse_field_set(string_arg(d, "fields") or ""),
                bool_arg(d, "resolvable", True),
                "resolvable" in d.args,
            )
            for d in applied(typedef, "key")
        ]
        if keys:
            result.keys[typedef.name] = keys
        for key in keys:
            result.key_fields |= _coordinates(key.selections, typedef.name, types)
        if has(typedef, "interfaceObject"):
            result.interface_objects.add(typedef.name)
        _expand_fields(result, typedef)
    _drop_external_on_extension_keys(result)
    _drop_unused_fed1_externals(result)
    result.shareable |= result.key_fields  # key fields may always be resolved by many subgraphs
    return result


def _expand_fields(result: Expanded, typedef: TypeDef) -> None:
    types = result.subgraph.types
    type_external = has(typedef, "external")
    type_shareable = has(typedef, "shareable") or result.subgraph.fed1
    for fdef in typedef.fields.values():
        coordinate = (typedef.name, fdef.name)
        if type_external or has(fdef, "external"):
            result.external.add(coordinate)
        if type_shareable or has(fdef, "shareable"):
            result.shareable.add(coordinate)
        for d in applied(fdef, "requires"):
            selections = parse_field_set(string_arg(d, "fields") or "")
            result.requires_fields |= _coordinates(selections, typedef.name, types)
        for d in applied(fdef, "provides"):
            selections = parse_field_set(string_arg(d, "fields") or "")
            result.provided |= _coordinates(selections, named_type(fdef.type), types)
        for d in applied(fdef, "override"):
            result.overrides[coordinate] = Override(
                string_arg(d, "from") or "", string_arg(d, "label") or None
            )


def _drop_external_on_extension_keys(result: Expanded) -> None:
    """`extend type T @key(fields: "id") { id: ID! @external }`: the key is owned, not external."""
    for type_name, keys in result.keys.items():
        typedef = result.subgraph.types[type_name]
        if not (typedef.extension or result.subgraph.fed1):
            continue
        for key in keys:
            result.external -= _coordinates(key.selections, type_name, result.subgraph.types)


def implemented_fields(sub: Expanded) -> set[Coordinate]:
    """Fields of object types that their interfaces (in this subgraph) declare."""
    result: set[Coordinate] = set()
    for typedef in sub.types.values():
        for itf in typedef.interfaces:
            itf_def = sub.types.get(itf)
            result |= {(typedef.name, name) for name in (itf_def.fields if itf_def else ())}
    return result


def _drop_unused_fed1_externals(sub: Expanded) -> None:
    """Federation 1 subgraphs are upgraded: unused @external fields are removed, not reported."""
    if not sub.subgraph.fed1:
        return
    used = sub.key_fields | sub.requires_fields | sub.provided | implemented_fields(sub)
    for type_name, field_name in sub.external - used:
        sub.types[type_name].fields.pop(field_name, None)
        sub.external.discard((type_name, field_name))
