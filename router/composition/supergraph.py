"""The merged supergraph: types carrying their join directives, ready to print."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql.language import DirectiveDefinitionNode

from .model import TypeDef


@dataclass(frozen=True)
class Graph:
    enum_name: str
    name: str
    url: str


@dataclass(frozen=True)
class FeatureLink:
    name: str
    url: str
    purpose: str | None = None
    local_name: str | None = None  # set when subgraphs import the directive under another name
    imports: tuple[str, ...] = ()  # other directives of the spec, imported by name


@dataclass(frozen=True)
class CustomLink:
    """A spec whose directives `@composeDirective` brings into the supergraph."""

    url: str
    imports: tuple[str, ...]


@dataclass
class Supergraph:
    graphs: list[Graph]
    join_version: str
    types: dict[str, TypeDef]
    roots: dict[str, str]
    features: list[FeatureLink] = field(default_factory=list)
    custom_links: list[CustomLink] = field(default_factory=list)
    directive_definitions: list[DirectiveDefinitionNode] = field(default_factory=list)
