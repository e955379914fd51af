"""A supergraph's `@link`s: the features it uses, and refusing those it needs but we lack."""

from graphql import DocumentNode, SchemaDefinitionNode, SchemaExtensionNode

from router.federation.links import Link, read_links
from router.federation.specs import FEATURES, JOIN, LINK, SPEC_ROOT
from router.supergraph.errors import SupergraphError

# the versions of each spec this router implements
IMPLEMENTED: dict[str, frozenset[str]] = {
    spec.name: frozenset(spec.versions) for spec in (LINK, JOIN, *FEATURES.values())
}


def supergraph_links(document: DocumentNode) -> dict[str, Link]:
    """The supergraph's links by spec name."""
    links: dict[str, Link] = {}
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            for link in read_links(definition.directives or ()):
                if not link.version:
                    raise SupergraphError(f"@link(url: {link.url!r}) is not a feature URL")
                if any(not name for name, _ in link.imports):
                    raise SupergraphError(
                        f"@link(url: {link.url!r}) imports an element without a name"
                    )
                links[link.name] = link
    if JOIN.name not in links:
        raise SupergraphError(
            f"not a supergraph: no @link to {SPEC_ROOT}{JOIN.name}; "
            "compose the subgraphs first (rover supergraph compose or lms compose)"
        )
    for link in links.values():
        unsupported = link.version not in IMPLEMENTED.get(link.name, frozenset())
        if link.purpose in ("SECURITY", "EXECUTION") and unsupported:
            raise SupergraphError(
                f"the supergraph links {link.url} for {link.purpose}, which this router does "
                "not implement; serving it would ignore rules the schema depends on. "
                "Remove the feature from the subgraphs or use a router that supports it."
            )
    return links
