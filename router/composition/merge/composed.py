"""`@composeDirective`: custom directives from a linked spec that the supergraph keeps."""

from __future__ import annotations

from collections.abc import Sequence

from graphql.language import DirectiveDefinitionNode

from router.federation.links import Link

from ..errors import ErrorSink
from ..expand import Expanded, string_arg
from ..supergraph import CustomLink


def _composed_names(sub: Expanded) -> list[str]:
    directives = [d for d in sub.subgraph.schema_directives if d.name == "composeDirective"]
    names = [string_arg(d, "name") for d in directives]
    return [n.lstrip("@") for n in names if n]


def _link_for(sub: Expanded, name: str) -> Link | None:
    links = sub.subgraph.links.foreign
    return next((link for link in links if link.imported(name) is not None), None)


def composed_directives(
    subgraphs: Sequence[Expanded], sink: ErrorSink
) -> tuple[list[CustomLink], list[DirectiveDefinitionNode]]:
    links: dict[str, list[str]] = {}
    definitions: dict[str, DirectiveDefinitionNode] = {}
    for sub in subgraphs:
        for name in _composed_names(sub):
            link = _link_for(sub, name)
            definition = sub.subgraph.directive_definitions.get(name)
            if link is None or definition is None:
                sink.add(
                    "DIRECTIVE_COMPOSITION_ERROR",
                    f'Directive "@{name}" in subgraph "{sub.name}" cannot be composed because it'
                    " is not a member of a core feature"
                    if link is None
                    else f'Directive "@{name}" in subgraph "{sub.name}" has no definition',
                    [sub.name],
                    f"@{name}",
                    f'Import "@{name}" with an @link to its spec and define it in the subgraph.',
                )
                continue
            imports = links.setdefault(link.url, [])
            if name not in imports:
                imports.append(name)
            definitions.setdefault(name, definition)
    return [CustomLink(url, tuple(names)) for url, names in links.items()], list(
        definitions.values()
    )
