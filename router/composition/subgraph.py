"""Initial stage: a subgraph's SDL parsed into the composition model."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from graphql import GraphQLSyntaxError, parse, print_ast
from graphql.language import (
    DirectiveDefinitionNode,
    DirectiveNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    EnumValueDefinitionNode,
    FieldDefinitionNode,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    StringValueNode,
    TypeDefinitionNode,
    TypeExtensionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
)

from .errors import ErrorSink
from .links import Links, resolve_links
from .model import DEFAULT_ROOT_NAMES, Directive, EnumValue, Field, InputValue, Kind, TypeDef


@dataclass(frozen=True)
class SubgraphInput:
    name: str
    url: str
    sdl: str


@dataclass
class Subgraph:
    name: str
    url: str
    links: Links
    types: dict[str, TypeDef]
    roots: dict[str, str]
    directive_definitions: dict[str, DirectiveDefinitionNode] = field(default_factory=dict)
    schema_directives: list[Directive] = field(default_factory=list)

    @property
    def fed1(self) -> bool:
        return self.links.version is None


KINDS: dict[type, Kind] = {
    ScalarTypeDefinitionNode: Kind.SCALAR,
    ScalarTypeExtensionNode: Kind.SCALAR,
    ObjectTypeDefinitionNode: Kind.OBJECT,
    ObjectTypeExtensionNode: Kind.OBJECT,
    InterfaceTypeDefinitionNode: Kind.INTERFACE,
    InterfaceTypeExtensionNode: Kind.INTERFACE,
    UnionTypeDefinitionNode: Kind.UNION,
    UnionTypeExtensionNode: Kind.UNION,
    EnumTypeDefinitionNode: Kind.ENUM,
    EnumTypeExtensionNode: Kind.ENUM,
    InputObjectTypeDefinitionNode: Kind.INPUT_OBJECT,
    InputObjectTypeExtensionNode: Kind.INPUT_OBJECT,
}
INTERNAL_TYPES = {"_Any", "_Entity", "_Service", "_FieldSet", "FieldSet", "link__Import"}
INTERNAL_PREFIXES = ("link__", "federation__")
INTERNAL_FIELDS = {"_entities", "_service"}


def _description(node: object) -> str | None:
    desc = getattr(node, "description", None)
    return desc.value if isinstance(desc, StringValueNode) else None


class _Builder:
    def __init__(self, links: Links) -> None:
        self.links = links

    def directives(self, nodes: Iterable[DirectiveNode] | None) -> list[Directive]:
        result = []
        for node in nodes or ():
            name = self.links.canonical(node.name.value) or node.name.value
            result.append(Directive(name, {a.name.value: a.value for a in node.arguments or ()}))
        return result

    def input_value(self, node: InputValueDefinitionNode) -> InputValue:
        return InputValue(
            node.name.value,
            print_ast(node.type),
            node.default_value,
            _description(node),
            self.directives(node.directives),
        )

    def field(self, node: FieldDefinitionNode) -> Field:
        args = {a.name.value: self.input_value(a) for a in node.arguments or ()}
        return Field(
            node.name.value,
            print_ast(node.type),
            args,
            _description(node),
            self.directives(node.directives),
        )

    def enum_value(self, node: EnumValueDefinitionNode) -> EnumValue:
        return EnumValue(node.name.value, _description(node), self.directives(node.directives))

    def add_to(self, target: TypeDef, node: TypeDefinitionNode | TypeExtensionNode) -> None:
        target.description = target.description or _description(node)
        target.directives.extend(self.directives(node.directives))
        for fnode in getattr(node, "fields", None) or ():
            if isinstance(fnode, FieldDefinitionNode):
                target.fields[fnode.name.value] = self.field(fnode)
            else:
                target.input_fields[fnode.name.value] = self.input_value(fnode)
        target.interfaces.extend(i.name.value for i in getattr(node, "interfaces", None) or ())
        target.members.extend(t.name.value for t in getattr(node, "types", None) or ())
        for vnode in getattr(node, "values", None) or ():
            target.values[vnode.name.value] = self.enum_value(vnode)


def _is_internal_type(name: str) -> bool:
    return name in INTERNAL_TYPES or name.startswith(INTERNAL_PREFIXES)


def parse_subgraph(inp: SubgraphInput, sink: ErrorSink) -> Subgraph | None:
    try:
        document = parse(inp.sdl)
    except GraphQLSyntaxError as exc:
        sink.add(
            "INVALID_GRAPHQL",
            f"[{inp.name}] {exc.message}",
            [inp.name],
            None,
            "Fix the syntax error in the subgraph SDL.",
        )
        return None
    schema_nodes = [
        d for d in document.definitions if isinstance(d, SchemaDefinitionNode | SchemaExtensionNode)
    ]
    schema_directives: list[DirectiveNode] = [
        directive for node in schema_nodes for directive in node.directives or ()
    ]
    links = resolve_links(inp.name, schema_directives, sink)
    builder = _Builder(links)
    roots = {
        op.operation.value: op.type.name.value
        for node in schema_nodes
        for op in node.operation_types or ()
    }
    types: dict[str, TypeDef] = {}
    seen_definition: set[str] = set()
    definitions: dict[str, DirectiveDefinitionNode] = {}
    for node in document.definitions:
        if isinstance(node, DirectiveDefinitionNode):
            name = node.name.value
            if name != "link" and links.canonical(name) is None:
                definitions[name] = node
            continue
        kind = KINDS.get(type(node))
        if kind is None or _is_internal_type(node.name.value):  # type: ignore[attr-defined]
            continue
        assert isinstance(node, TypeDefinitionNode | TypeExtensionNode)
        name = node.name.value
        target = types.setdefault(name, TypeDef(kind, name, extension=True))
        if isinstance(node, TypeDefinitionNode):
            seen_definition.add(name)
        builder.add_to(target, node)
    for name, typedef in types.items():
        extends = any(d.name == "extends" for d in typedef.directives)
        typedef.declared_as_extension = name not in seen_definition or (
            extends and links.version is None
        )
        typedef.extension = extends or (name not in seen_definition and links.version is not None)
        for internal in INTERNAL_FIELDS & typedef.fields.keys():
            del typedef.fields[internal]
    _normalise_roots(types, roots)
    return Subgraph(
        inp.name,
        inp.url,
        links,
        types,
        {kind: DEFAULT_ROOT_NAMES[kind] for kind in roots},
        definitions,
        builder.directives(d for d in schema_directives if d.name.value != "link"),
    )


def _normalise_roots(types: dict[str, TypeDef], roots: dict[str, str]) -> None:
    for kind, default in DEFAULT_ROOT_NAMES.items():
        name = roots.get(kind)
        if name is not None and name != default and name in types:
            typedef = types.pop(name)
            typedef.name = default
            types[default] = typedef
        elif name is None and default in types:
            roots[kind] = default
    roots.setdefault("query", "Query")
    types.setdefault("Query", TypeDef(Kind.OBJECT, "Query"))


def parse_subgraphs(inputs: Sequence[SubgraphInput], sink: ErrorSink) -> list[Subgraph]:
    parsed = [parse_subgraph(inp, sink) for inp in inputs]
    return sorted((s for s in parsed if s is not None), key=lambda s: s.name)
