"""Deriving the API schema: link/join machinery stripped, `@inaccessible` elements removed."""

from typing import Any

from graphql import (
    REMOVE,
    DirectiveDefinitionNode,
    DirectiveLocation,
    DirectiveNode,
    DocumentNode,
    GraphQLSchema,
    NamedTypeNode,
    Node,
    SchemaDefinitionNode,
    TypeDefinitionNode,
    Visitor,
    build_ast_schema,
    visit,
)

from router.federation.links import Link

_KEPT_DIRECTIVES = frozenset({"deprecated", "specifiedBy", "oneOf"})
_EXECUTABLE = frozenset(
    {
        DirectiveLocation.QUERY,
        DirectiveLocation.MUTATION,
        DirectiveLocation.SUBSCRIPTION,
        DirectiveLocation.FIELD,
        DirectiveLocation.FRAGMENT_DEFINITION,
        DirectiveLocation.FRAGMENT_SPREAD,
        DirectiveLocation.INLINE_FRAGMENT,
        DirectiveLocation.VARIABLE_DEFINITION,
    }
)


def _is_machinery(name: str, prefixes: frozenset[str]) -> bool:
    return name in prefixes or any(name.startswith(f"{p}__") for p in prefixes)


def _executable(node: DirectiveDefinitionNode) -> bool:
    return any(DirectiveLocation[loc.value] in _EXECUTABLE for loc in node.locations)


class _Stripper(Visitor):
    def __init__(self, prefixes: frozenset[str], inaccessible: str, removed: set[str]) -> None:
        super().__init__()
        self.prefixes = prefixes
        self.inaccessible = inaccessible
        self.removed = removed
        self.kept_directives: set[str] = set(_KEPT_DIRECTIVES)

    def _hidden(self, node: Node) -> bool:
        directives: tuple[DirectiveNode, ...] = getattr(node, "directives", None) or ()
        return any(d.name.value == self.inaccessible for d in directives)

    def enter(self, node: Node, *_: Any) -> Any:
        if isinstance(node, DirectiveNode):
            return None if node.name.value in self.kept_directives else REMOVE
        if isinstance(node, NamedTypeNode) and node.name.value in self.removed:
            return REMOVE
        if isinstance(node, SchemaDefinitionNode | DirectiveDefinitionNode):
            return None
        if hasattr(node, "directives") and self._hidden(node):
            return REMOVE
        return None


def _hidden_types(document: DocumentNode, prefixes: frozenset[str], inaccessible: str) -> set[str]:
    removed: set[str] = set()
    for definition in document.definitions:
        if isinstance(definition, TypeDefinitionNode):
            name = definition.name.value
            hidden = any(d.name.value == inaccessible for d in definition.directives or ())
            if hidden or _is_machinery(name, prefixes) or name.startswith("link__"):
                removed.add(name)
    return removed


def build_api_schema(document: DocumentNode, links: dict[str, Link]) -> GraphQLSchema:
    prefixes = frozenset(link.prefix for link in links.values())
    inaccessible = (
        links["inaccessible"].directive("inaccessible") if "inaccessible" in links else ""
    )
    removed = _hidden_types(document, prefixes, inaccessible)
    kept_definitions = []
    custom_directives: set[str] = set()
    for definition in document.definitions:
        if isinstance(definition, TypeDefinitionNode) and definition.name.value in removed:
            continue
        if isinstance(definition, DirectiveDefinitionNode):
            name = definition.name.value
            imported = any(link.imported(name) is not None for link in links.values())
            if _is_machinery(name, prefixes) or imported or not _executable(definition):
                continue
            custom_directives.add(name)
        kept_definitions.append(definition)
    stripper = _Stripper(prefixes, inaccessible, removed)
    stripper.kept_directives |= custom_directives
    stripped = visit(DocumentNode(definitions=tuple(kept_definitions)), stripper)
    return build_ast_schema(stripped, assume_valid_sdl=True)
