"""Printing the supergraph the way Apollo's composition prints it."""

from __future__ import annotations

from collections.abc import Sequence

from graphql import print_ast
from graphql.language import (
    DirectiveDefinitionNode,
    EnumValueNode,
    ListValueNode,
    NameNode,
    ObjectFieldNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
)
from graphql.language.block_string import print_block_string

from router.federation.specs import JOIN, LINK, spec_url

from .collation import locale_key
from .model import Directive, EnumValue, Field, InputValue, Kind, TypeDef
from .spec_definitions import (
    FEATURE_DIRECTIVES,
    FEATURE_TYPES,
    SPEC_DEFINES,
    join_directives,
    join_types,
)
from .supergraph import CustomLink, FeatureLink, Supergraph

INDENT = "  "


def value_text(value: ValueNode) -> str:
    if isinstance(value, ObjectValueNode):
        return "{" + ", ".join(f"{f.name.value}: {value_text(f.value)}" for f in value.fields) + "}"
    if isinstance(value, ListValueNode):
        return "[" + ", ".join(value_text(v) for v in value.values) + "]"
    if isinstance(value, StringValueNode) and value.block:
        value = StringValueNode(value=value.value)
    return print_ast(value)


def directive_text(directive: Directive) -> str:
    if not directive.args:
        return f"@{directive.name}"
    args = ", ".join(f"{k}: {value_text(v)}" for k, v in directive.args.items())
    return f"@{directive.name}({args})"


def _applied(directives: Sequence[Directive], on_new_lines: bool = False, end: bool = False) -> str:
    if not directives:
        return ""
    if not on_new_lines:
        return " " + " ".join(directive_text(d) for d in directives)
    joined = ("\n" + INDENT).join(directive_text(d) for d in directives)
    return "\n" + INDENT + joined + ("\n" if end else "")


def _description(text: str | None, indentation: str = "", first: bool = True) -> str:
    if text is None:
        return ""
    block = print_block_string(text)
    prefix = "\n" + indentation if indentation and not first else indentation
    return prefix + block.replace("\n", "\n" + indentation) + "\n"


def _input_value(value: InputValue) -> str:
    default = f" = {value_text(value.default)}" if value.default is not None else ""
    return f"{value.name}: {value.type}{default}{_applied(value.directives)}"


def _arguments(args: Sequence[InputValue], indentation: str) -> str:
    if not args:
        return ""
    if all(a.description is None for a in args):
        return "(" + ", ".join(_input_value(a) for a in args) + ")"
    lines = [
        _description(a.description, INDENT + indentation, i == 0)
        + INDENT
        + indentation
        + _input_value(a)
        for i, a in enumerate(args)
    ]
    return "(\n" + "\n".join(lines) + f"\n{indentation})"


def _field(field: Field) -> str:
    args = _arguments(list(field.args.values()), INDENT)
    return f"{field.name}{args}: {field.type}{_applied(field.directives)}"


def _block(items: Sequence[str]) -> str:
    return "{\n" + "\n".join(items) + "\n}" if items else ""


def _members(typedef: TypeDef) -> list[str]:
    def described(i: int, text: str | None, line: str) -> str:
        return _description(text, INDENT, i == 0) + INDENT + line

    if typedef.kind in (Kind.OBJECT, Kind.INTERFACE):
        return [
            described(i, f.description, _field(f)) for i, f in enumerate(typedef.fields.values())
        ]
    if typedef.kind is Kind.INPUT_OBJECT:
        values = typedef.input_fields.values()
        return [described(i, v.description, _input_value(v)) for i, v in enumerate(values)]
    if typedef.kind is Kind.ENUM:
        return [
            described(i, v.description, _enum_value(v))
            for i, v in enumerate(typedef.values.values())
        ]
    return []


def _enum_value(value: EnumValue) -> str:
    return value.name + _applied(value.directives)


def print_type(typedef: TypeDef) -> str:
    head = _description(typedef.description) + typedef.kind.value + " " + typedef.name
    if typedef.kind is Kind.SCALAR:
        return head + _applied(typedef.directives, True)
    if typedef.kind is Kind.UNION:
        members = " = " + " | ".join(typedef.members) if typedef.members else ""
        return head + _applied(typedef.directives, True, bool(typedef.members)) + members
    if typedef.interfaces:
        head += " implements " + " & ".join(typedef.interfaces)
    items = _members(typedef)
    spacer = " " if not typedef.directives and items else ""
    return head + _applied(typedef.directives, True, bool(items)) + spacer + _block(items)


def _schema(supergraph: Supergraph) -> str:
    links = [_link(LINK.url, LINK.purpose)]
    links.append(_link(spec_url(JOIN.name, "v" + supergraph.join_version), JOIN.purpose))
    links += [_feature_link(f) for f in supergraph.features]
    links += [_custom_link(c) for c in supergraph.custom_links]
    roots = [f"{INDENT}{kind}: {name}" for kind, name in supergraph.roots.items()]
    return "schema" + _applied(links, True, True) + "{\n" + "\n".join(roots) + "\n}"


def _feature_link(feature: FeatureLink) -> Directive:
    link = _link(feature.url, feature.purpose)
    if feature.imports:
        names = tuple(_string(f"@{name}") for name in feature.imports)
        link.args["import"] = ListValueNode(values=names)
    if feature.local_name:
        renamed = ObjectValueNode(
            fields=(
                ObjectFieldNode(name=NameNode(value="name"), value=_string(f"@{feature.name}")),
                ObjectFieldNode(name=NameNode(value="as"), value=_string(f"@{feature.local_name}")),
            )
        )
        link.args["import"] = ListValueNode(values=(renamed,))
    return link


def _custom_link(custom: CustomLink) -> Directive:
    imports = ListValueNode(values=tuple(_string(f"@{name}") for name in custom.imports))
    return Directive("link", {"url": _string(custom.url), "import": imports})


def _directive_definition(node: DirectiveDefinitionNode) -> str:
    args = [
        InputValue(
            a.name.value,
            print_ast(a.type),
            a.default_value,
            a.description.value if a.description else None,
        )
        for a in node.arguments or ()
    ]
    repeatable = " repeatable" if node.repeatable else ""
    locations = " | ".join(location.value for location in node.locations)
    description = _description(node.description.value if node.description else None)
    return (
        f"{description}directive @{node.name.value}{_arguments(args, '')}{repeatable}"
        f" on {locations}"
    )


def _string(value: str) -> StringValueNode:
    return StringValueNode(value=value)


def _link(url: str, purpose: str | None) -> Directive:
    args: dict[str, ValueNode] = {"url": StringValueNode(value=url)}
    if purpose is not None:
        args["for"] = EnumValueNode(value=purpose)
    return Directive("link", args)


def _graph_enum(supergraph: Supergraph) -> str:
    values = [
        f'{INDENT}{g.enum_name} @join__graph(name: "{g.name}", url: "{g.url}")'
        for g in supergraph.graphs
    ]
    return "enum join__Graph " + _block(values)


def print_supergraph(supergraph: Supergraph) -> str:
    directives = join_directives(supergraph.join_version)
    types = join_types(supergraph.join_version)
    types["join__Graph"] = _graph_enum(supergraph)
    for feature in supergraph.features:
        name = feature.local_name or feature.name
        text = FEATURE_DIRECTIVES[feature.name]
        directives[name] = text.replace(f"@{feature.name}", f"@{name}", 1)
        for member in SPEC_DEFINES.get(feature.name, ())[1:]:
            directives[member] = FEATURE_DIRECTIVES[member]
        types.update(FEATURE_TYPES.get(feature.name, {}))
    for definition in supergraph.directive_definitions:
        directives[definition.name.value] = _directive_definition(definition)
    for name, typedef in supergraph.types.items():
        types[name] = print_type(typedef)
    ordered_directives = [directives[n] for n in sorted(directives, key=locale_key)]
    ordered_types = [types[n] for n in sorted(types, key=locale_key)]
    return "\n\n".join([_schema(supergraph), *ordered_directives, *ordered_types])
