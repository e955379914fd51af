"""One generic federation subgraph server that serves any subgraph SDL with the data of `data`.

It checks what a gateway sends: representations must carry a complete key whose values match
the entity, `@requires` inputs must be present (and the field's value is derived from them, so
a wrong input shows as a different answer), and an `@external` field answers only where a
`@provides` promised it.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLUnionType,
    OperationDefinitionNode,
    build_schema,
    graphql,
    is_abstract_type,
    parse,
    value_from_ast_untyped,
)
from graphql.language import DirectiveNode, StringValueNode
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from tests.differential import data
from tests.differential.world import World

PRELUDE = """
scalar _Any
scalar FieldSet
scalar federation__FieldSet
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) \
repeatable on SCHEMA
directive @key(fields: FieldSet!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE
directive @requires(fields: FieldSet!) on FIELD_DEFINITION
directive @provides(fields: FieldSet!) on FIELD_DEFINITION
directive @external on OBJECT | FIELD_DEFINITION
directive @shareable repeatable on OBJECT | FIELD_DEFINITION
directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION \
| SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION
directive @interfaceObject on OBJECT
directive @override(from: String!, label: String) on FIELD_DEFINITION
directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | UNION \
| ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION
"""

# A field set as a tree: response name -> (arguments, sub-selection).
FieldSet = dict[str, tuple[dict[str, Any], "FieldSet"]]


def parse_field_set(text: str) -> FieldSet:
    operation = parse("{" + text + "}").definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return _tree(operation.selection_set.selections)


def _tree(selections: Any) -> FieldSet:
    tree: FieldSet = {}
    for selection in selections:
        assert isinstance(selection, FieldNode), "field sets here use fields only"
        arguments = {
            a.name.value: value_from_ast_untyped(a.value) for a in selection.arguments or ()
        }
        sub = _tree(selection.selection_set.selections) if selection.selection_set else {}
        tree[selection.name.value] = (arguments, sub)
    return tree


def _directive_args(node: DirectiveNode) -> dict[str, str]:
    return {
        a.name.value: a.value.value
        for a in node.arguments or ()
        if isinstance(a.value, StringValueNode)
    }


def _directives(ast: Any) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for directive in getattr(ast, "directives", None) or ():
        found.setdefault(directive.name.value, _directive_args(directive))
    return found


def _keys(ast: Any) -> list[FieldSet]:
    return [
        parse_field_set(_directive_args(d)["fields"])
        for d in getattr(ast, "directives", None) or ()
        if d.name.value == "key"
    ]


def world_keys(world: World) -> dict[str, set[str]]:
    """Every entity of the supergraph with the top-level fields of its keys."""
    keys: dict[str, set[str]] = {}
    for gtype in world.supergraph_schema.type_map.values():
        for directive in getattr(gtype.ast_node, "directives", None) or ():
            key = _directive_args(directive).get("key")
            if directive.name.value == "join__type" and key is not None:
                keys.setdefault(gtype.name, set()).update(parse_field_set(key))
    return keys


@dataclass
class Node:
    typename: str
    identity: str
    representation: dict[str, Any] | None = None
    provided: FieldSet = field(default_factory=dict)


class SubgraphData:
    def __init__(self, world: World, name: str) -> None:
        self.world = world
        self.name = name
        sdl = world.subgraphs[name]
        self.entity_keys = world_keys(world)
        base = build_schema(PRELUDE + sdl)
        self.local_keys = {
            name: _keys(gtype.ast_node)
            for name, gtype in base.type_map.items()
            if isinstance(gtype, GraphQLObjectType | GraphQLInterfaceType) and _keys(gtype.ast_node)
        }
        entities = [
            name
            for name, gtype in base.type_map.items()
            if isinstance(gtype, GraphQLObjectType) and name in self.local_keys
        ]
        extra = "\nunion _Entity = " + " | ".join(entities) if entities else ""
        if entities:
            query = "extend type Query" if "Query" in base.type_map else "type Query"
            extra += f"\n{query} {{ _entities(representations: [_Any!]!): [_Entity]! }}"
        self.schema: GraphQLSchema = build_schema(PRELUDE + sdl + extra)
        for gtype in self.schema.type_map.values():
            if isinstance(gtype, GraphQLInterfaceType | GraphQLUnionType):
                gtype.resolve_type = lambda value, *_: value.typename

    # -- schema facts -------------------------------------------------------------------------

    def object_type(self, name: str) -> GraphQLObjectType | GraphQLInterfaceType:
        gtype = self.schema.type_map[name]
        assert isinstance(gtype, GraphQLObjectType | GraphQLInterfaceType)
        return gtype

    def field_directives(self, typename: str, name: str) -> dict[str, dict[str, str]]:
        gtype = self.object_type(typename)
        found = _directives(gtype.fields[name].ast_node)
        if "external" in _directives(gtype.ast_node):
            found.setdefault("external", {})
        return found

    def is_key_field(self, typename: str, name: str) -> bool:
        return any(name in key for key in self.local_keys.get(typename, ()))

    def is_interface_object(self, name: str) -> bool:
        return "interfaceObject" in _directives(self.schema.type_map[name].ast_node)

    def candidates(self, named: Any) -> list[str]:
        """The concrete types a value of `named` may have here."""
        if is_abstract_type(named):
            return sorted(t.name for t in self.schema.get_possible_types(named))
        if self.is_interface_object(named.name):
            interface = self.world.supergraph_schema.type_map[named.name]
            assert isinstance(interface, GraphQLInterfaceType)
            return sorted(
                t.name for t in self.world.supergraph_schema.get_possible_types(interface)
            )
        return [named.name]

    # -- values --------------------------------------------------------------------------------

    def resolve(self, source: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
        if info.field_name == "_entities":
            return [self.entity(r) for r in args["representations"]]
        node = source if isinstance(source, Node) else Node(info.parent_type.name, "Query")
        return self.field_value(node, info.field_name, args)

    def field_value(self, node: Node, name: str, args: dict[str, Any]) -> Any:
        directives = self.field_directives(node.typename, name)
        key: tuple[Any, ...] = (node.identity, name, json.dumps(args, sort_keys=True))
        external = "external" in directives and not self.is_key_field(node.typename, name)
        if external and name not in node.provided:
            raise GraphQLError(f"{node.typename}.{name} is external here and was not provided")
        if "requires" in directives:
            key += (self.required_inputs(node, directives["requires"]["fields"]),)
        provided = node.provided.get(name, ({}, {}))[1]
        if "provides" in directives:
            provided = parse_field_set(directives["provides"]["fields"])
        field_type = self.object_type(node.typename).fields[name].type
        stable = name in self.entity_keys.get(node.typename, ()) or name == "id"
        return self.value(node, field_type, key, provided, stable, args)

    def required_inputs(self, node: Node, fields: str) -> str:
        """The @requires inputs from the representation, or from this subgraph's own values
        where a @provides promised them."""
        field_set = parse_field_set(fields)
        if node.representation is not None:
            return json.dumps(_pick(node.representation, field_set), sort_keys=True)
        if not all(name in node.provided for name in field_set):
            raise GraphQLError(f"{node.typename} was not reached through _entities")
        return json.dumps(self.expected(node, field_set), sort_keys=True)

    def value(
        self,
        node: Node,
        gtype: GraphQLOutputType,
        key: tuple[Any, ...],
        provided: FieldSet,
        stable: bool,
        args: dict[str, Any],
    ) -> Any:
        non_null = isinstance(gtype, GraphQLNonNull)
        inner = gtype.of_type if isinstance(gtype, GraphQLNonNull) else gtype
        if not stable and data.raises(key):
            raise GraphQLError(f"{key[1]} failed for {node.identity}")
        if not stable and data.is_null(key, non_null):
            return None
        if isinstance(inner, GraphQLList):
            return [
                self.value(node, inner.of_type, (*key, i), provided, stable, {})
                for i in range(data.list_length(key))
            ]
        if isinstance(inner, GraphQLEnumType):
            return data.pick(key, sorted(inner.values), "enum")
        if inner.name == "ID":
            return node.identity if len(key) == 3 else f"{node.identity}/{key[1]}.{key[-1]}"
        if not isinstance(inner, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            return data.scalar(inner.name, key)
        candidates = self.candidates(inner)
        if any(c in self.entity_keys for c in candidates):
            return self.entity_value(inner.name, candidates, key, provided, args)
        concrete = data.pick(key, candidates, "type")
        path = "".join(f".{i}" for i in key[3:] if isinstance(i, int))
        arguments = "" if key[2] == "{}" else key[2]
        return Node(concrete, f"{node.identity}/{key[1]}{arguments}{path}", None, provided)

    def entity_value(
        self,
        named: str,
        candidates: list[str],
        key: tuple[Any, ...],
        provided: FieldSet,
        args: dict[str, Any],
    ) -> Node | None:
        local = named if self.is_interface_object(named) else None
        if "id" in args:
            found = data.parse_identity(args["id"])
            if found is None or found[0] not in candidates or "/" in args["id"]:
                return None
            return Node(local or found[0], args["id"], None, provided)
        concrete = data.pick(key, candidates, "type")
        identity = data.entity_identity(concrete, data.entity_number(key))
        return Node(local or concrete, identity, None, provided)

    # -- _entities -----------------------------------------------------------------------------

    def entity(self, representation: dict[str, Any]) -> Node | GraphQLError | None:
        typename = representation.get("__typename")
        if not isinstance(typename, str) or typename not in self.local_keys:
            return GraphQLError(f"no entity {typename!r} in this subgraph")
        key = next(
            (k for k in self.local_keys[typename] if _complete(representation, k)),
            None,
        )
        if key is None:
            return GraphQLError(f"representation of {typename} lacks a key: {representation}")
        identity = _find_identity(representation, key)
        if identity is None:
            return GraphQLError(f"representation of {typename} has no entity ID: {representation}")
        concrete = identity.rpartition("-")[0]
        gtype = self.schema.type_map[typename]
        if self.is_interface_object(typename):
            local = typename
        elif isinstance(gtype, GraphQLInterfaceType):
            local = concrete if concrete in self.candidates(gtype) else ""
        else:
            local = concrete if concrete == typename else ""
        if not local:
            return GraphQLError(f"{identity} is not a {typename}")
        if data.unknown_here(identity, self.name):
            return None
        node = Node(local, identity, representation)
        expected = self.expected(node, key)
        if expected != _pick(representation, key):
            return GraphQLError(f"representation {representation} does not match {expected}")
        return node

    def expected(self, node: Node, field_set: FieldSet) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, (args, sub) in field_set.items():
            value = self.field_value(node, name, args)
            if sub:
                value = _map(value, lambda item, sub=sub: self.expected(item, sub))
            found[name] = value
        return found


def _map(value: Any, function: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [_map(item, function) for item in value]
    return function(value)


def _complete(representation: Any, field_set: FieldSet) -> bool:
    if not isinstance(representation, dict):
        return representation is None
    return all(
        name in representation and (not sub or _complete_all(representation[name], sub))
        for name, (_, sub) in field_set.items()
    )


def _complete_all(value: Any, field_set: FieldSet) -> bool:
    if isinstance(value, list):
        return all(_complete_all(item, field_set) for item in value)
    return _complete(value, field_set)


def _pick(representation: Any, field_set: FieldSet) -> Any:
    if isinstance(representation, list):
        return [_pick(item, field_set) for item in representation]
    if not isinstance(representation, dict):
        return representation
    missing = [name for name in field_set if name not in representation]
    if missing:
        raise GraphQLError(f"representation lacks {', '.join(missing)}: {representation}")
    return {
        name: _pick(representation[name], sub) if sub else representation[name]
        for name, (_, sub) in field_set.items()
    }


def _find_identity(representation: dict[str, Any], field_set: FieldSet) -> str | None:
    for name, (_, sub) in field_set.items():
        value = representation.get(name)
        if sub and isinstance(value, dict):
            found = _find_identity(value, sub)
            if found is not None:
                return found
        parsed = data.parse_identity(value)
        if parsed is not None:
            return data.entity_identity(*parsed)
    return None


# Errors of the generic subgraph itself (a bug of the harness, not of a gateway).
HARNESS_FAILURES: list[str] = []


# (world, subgraph) pairs that answer 503, as a subgraph that is down.
DOWN: set[tuple[str, str]] = set()


def _harness_bug(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    return not str(original).startswith("Cannot return null for non-nullable field")


def subgraph_app(world: World, name: str) -> Starlette:
    served = SubgraphData(world, name)

    async def endpoint(request: Request) -> Response:
        if (world.name, name) in DOWN:
            return Response("unavailable", status_code=503, media_type="text/plain")
        try:
            payload = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"errors": [{"message": "body is not JSON"}]}, status_code=400)
        result = await graphql(
            served.schema,
            payload.get("query", ""),
            variable_values=payload.get("variables"),
            operation_name=payload.get("operationName"),
            field_resolver=served.resolve,
        )
        body: dict[str, Any] = {"data": result.data}
        for error in result.errors or ():
            if _harness_bug(error):
                HARNESS_FAILURES.append(f"{world.name}/{name}: {error.original_error!r}")
        if result.errors:
            body["errors"] = [error.formatted for error in result.errors]
        return JSONResponse(body)

    return Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])


def worlds_app(worlds: list[World]) -> Starlette:
    """Every subgraph of every world, at /<world>/<subgraph>/graphql."""
    return Starlette(
        routes=[
            Mount(f"/{world.name}/{name}", subgraph_app(world, name))
            for world in worlds
            for name in world.subgraphs
        ]
    )
