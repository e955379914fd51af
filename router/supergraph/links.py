"""`@link` handling: which features a supergraph uses, under which names, for what purpose."""

from dataclasses import dataclass

from graphql import DocumentNode, SchemaDefinitionNode, SchemaExtensionNode, value_from_ast_untyped

from router.supergraph.errors import SupergraphError

SPEC_ROOT = "https://specs.apollo.dev/"
SUPPORTED: dict[str, frozenset[str]] = {
    "link": frozenset({"v1.0"}),
    "join": frozenset({"v0.1", "v0.2", "v0.3", "v0.4", "v0.5"}),
    "inaccessible": frozenset({"v0.1", "v0.2"}),
    "tag": frozenset({"v0.1", "v0.2", "v0.3"}),
    "authenticated": frozenset({"v0.1"}),
    "requiresScopes": frozenset({"v0.1"}),
    "policy": frozenset({"v0.1"}),
    "context": frozenset({"v0.1"}),
}


@dataclass(frozen=True)
class Link:
    url: str
    feature: str
    version: str
    prefix: str
    purpose: str | None
    imports: dict[str, str]

    def directive(self, element: str) -> str:
        """The name a supergraph uses for directive `element` of this feature."""
        if element in self.imports:
            return self.imports[element]
        return self.prefix if element == self.feature else f"{self.prefix}__{element}"


def _parse_link(args: dict[str, object]) -> Link:
    url = str(args.get("url") or "")
    parts = url.rstrip("/").split("/")
    if len(parts) < 2:
        raise SupergraphError(f"@link(url: {url!r}) is not a feature URL")
    feature, version = parts[-2], parts[-1]
    prefix = str(args.get("as") or feature)
    imports: dict[str, str] = {}
    raw_imports = args.get("import") or []
    if isinstance(raw_imports, list):
        for item in raw_imports:
            if isinstance(item, str):
                imports[item.lstrip("@")] = item.lstrip("@")
            elif isinstance(item, dict):
                imports[str(item["name"]).lstrip("@")] = str(item.get("as", item["name"])).lstrip(
                    "@"
                )
    purpose = args.get("for")
    return Link(url, feature, version, prefix, str(purpose) if purpose else None, imports)


def read_links(document: DocumentNode) -> dict[str, Link]:
    links: dict[str, Link] = {}
    for definition in document.definitions:
        if not isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            continue
        for directive in definition.directives or ():
            if directive.name.value != "link":
                continue
            args = {
                a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()
            }
            link = _parse_link(args)
            links[link.feature] = link
    if "join" not in links:
        raise SupergraphError(
            "not a supergraph: no @link to https://specs.apollo.dev/join; "
            "compose the subgraphs first (rover supergraph compose or lms compose)"
        )
    for link in links.values():
        unsupported = link.version not in SUPPORTED.get(link.feature, frozenset())
        if link.purpose in ("SECURITY", "EXECUTION") and unsupported:
            raise SupergraphError(
                f"the supergraph links {link.url} for {link.purpose}, which this router does "
                "not implement; serving it would ignore rules the schema depends on. "
                "Remove the feature from the subgraphs or use a router that supports it."
            )
    return links
