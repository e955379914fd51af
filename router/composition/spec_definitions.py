"""Definitions the supergraph carries for the link and join specs and the linked features."""

from __future__ import annotations

_ALL_TYPES = "OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR"
_JOIN_FIELD_ARGS = (
    "graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String,"
    " external: Boolean, override: String, usedOverridden: Boolean"
)
_JOIN_FIELD_NEW_ARGS = {
    "0.3": "",
    "0.4": ", overrideLabel: String",
    "0.5": ", overrideLabel: String, contextArguments: [join__ContextArgument!]",
}


def join_directives(version: str) -> dict[str, str]:
    result = {
        "join__enumValue": "directive @join__enumValue(graph: join__Graph!)"
        " repeatable on ENUM_VALUE",
        "join__field": f"directive @join__field({_JOIN_FIELD_ARGS}{_JOIN_FIELD_NEW_ARGS[version]})"
        " repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION",
        "join__graph": "directive @join__graph(name: String!, url: String!) on ENUM_VALUE",
        "join__implements": "directive @join__implements(graph: join__Graph!, interface: String!)"
        " repeatable on OBJECT | INTERFACE",
        "join__type": "directive @join__type(graph: join__Graph!, key: join__FieldSet,"
        " extension: Boolean! = false, resolvable: Boolean! = true,"
        f" isInterfaceObject: Boolean! = false) repeatable on {_ALL_TYPES}",
        "join__unionMember": "directive @join__unionMember(graph: join__Graph!, member: String!)"
        " repeatable on UNION",
        "link": "directive @link(url: String, as: String, for: link__Purpose,"
        " import: [link__Import]) repeatable on SCHEMA",
    }
    if version != "0.3":
        result["join__directive"] = (
            "directive @join__directive(graphs: [join__Graph!], name: String!,"
            " args: join__DirectiveArguments) repeatable on SCHEMA | OBJECT | INTERFACE"
            " | FIELD_DEFINITION"
        )
    return result


def join_types(version: str) -> dict[str, str]:
    result = {
        "join__FieldSet": "scalar join__FieldSet",
        "link__Import": "scalar link__Import",
        "link__Purpose": 'enum link__Purpose {\n  """\n  `SECURITY` features provide metadata'
        ' necessary to securely resolve fields.\n  """\n  SECURITY\n\n  """\n  `EXECUTION`'
        ' features provide metadata necessary for operation execution.\n  """\n  EXECUTION\n}',
    }
    if version != "0.3":
        result["join__DirectiveArguments"] = "scalar join__DirectiveArguments"
    if version == "0.5":
        result["join__FieldValue"] = "scalar join__FieldValue"
        result["join__ContextArgument"] = (
            "input join__ContextArgument {\n  name: String!\n  type: String!\n"
            "  context: String!\n  selection: join__FieldValue!\n}"
        )
    return result


_AUTH_LOCATIONS = "FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM"
FEATURE_DIRECTIVES: dict[str, str] = {
    "tag": "directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE"
    " | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT"
    " | INPUT_FIELD_DEFINITION | SCHEMA",
    "inaccessible": "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION"
    " | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION",
    "authenticated": f"directive @authenticated on {_AUTH_LOCATIONS}",
    "requiresScopes": "directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!)"
    f" on {_AUTH_LOCATIONS}",
    "policy": f"directive @policy(policies: [[policy__Policy!]!]!) on {_AUTH_LOCATIONS}",
    "cost": "directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION"
    " | INPUT_FIELD_DEFINITION | OBJECT | SCALAR",
    "listSize": "directive @listSize(assumedSize: Int, slicingArguments: [String!],"
    " sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION",
    "context": "directive @context(name: String!) repeatable on INTERFACE | OBJECT | UNION",
    "context__fromContext": "directive @context__fromContext(field: context__ContextFieldValue)"
    " on ARGUMENT_DEFINITION",
}
# every directive a linked spec defines in the supergraph
SPEC_DEFINES: dict[str, tuple[str, ...]] = {
    "cost": ("cost", "listSize"),
    "context": ("context", "context__fromContext"),
}
FEATURE_TYPES: dict[str, dict[str, str]] = {
    "requiresScopes": {"requiresScopes__Scope": "scalar requiresScopes__Scope"},
    "policy": {"policy__Policy": "scalar policy__Policy"},
    "context": {"context__ContextFieldValue": "scalar context__ContextFieldValue"},
}
