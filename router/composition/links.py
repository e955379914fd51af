"""A subgraph's `@link`s: which federation version it uses and how it names the directives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from graphql.language import DirectiveNode

from router.federation.links import Link, read_links
from router.federation.specs import (
    FED1_DIRECTIVES,
    FEDERATION,
    FEDERATION_DIRECTIVES,
    FEDERATION_TYPES,
    LINK,
)

from .errors import ErrorSink


@dataclass
class Links:
    version: tuple[int, int] | None  # None: a Federation 1 subgraph (no federation @link)
    names: dict[str, str] = field(default_factory=dict)
    prefix: str = FEDERATION
    foreign: list[Link] = field(default_factory=list)  # links to specs other than federation

    def canonical(self, local: str) -> str | None:
        if local in self.names:
            return self.names[local]
        if self.version is None:
            return None
        head, sep, rest = local.partition("__")
        if sep and head == self.prefix and rest in FEDERATION_DIRECTIVES:
            return rest
        return None

    def local_name(self, canonical: str) -> str:
        """The name this subgraph gives a federation directive."""
        renamed = [local for local, name in self.names.items() if name == canonical]
        return renamed[0] if renamed else canonical


def _unknown_import(sink: ErrorSink, subgraph: str, imported: str, hint: str) -> None:
    sink.add(
        "INVALID_LINK_DIRECTIVE_USAGE",
        f'[{subgraph}] Cannot import unknown element "{imported}".',
        [subgraph],
        imported,
        hint,
    )


def resolve_links(
    subgraph: str, schema_directives: Sequence[DirectiveNode], sink: ErrorSink
) -> Links:
    links = read_links(schema_directives)
    federation = next((link for link in links if link.is_spec(FEDERATION)), None)
    if federation is None:
        return Links(None, {name: name for name in FED1_DIRECTIVES})
    version = federation.version_number
    assert version is not None
    result = Links(version, prefix=federation.prefix)
    for imported, local in federation.imports:
        if imported.startswith("@"):
            canonical = imported[1:]
            introduced = FEDERATION_DIRECTIVES.get(canonical)
            if introduced is None or version < (2, introduced):
                _unknown_import(
                    sink,
                    subgraph,
                    imported,
                    f"Check the spelling, or raise the federation version above v{version[0]}."
                    f"{version[1]} if the directive is newer.",
                )
                continue
            result.names[local.lstrip("@")] = canonical
        elif imported not in FEDERATION_TYPES:
            _unknown_import(
                sink,
                subgraph,
                imported,
                "Only federation directives and types can be imported from the federation spec.",
            )
    result.foreign = [
        link for link in links if link is not federation and not link.is_spec(LINK.name)
    ]
    return result
