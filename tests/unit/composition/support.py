"""Shared helpers: load fixture subgraphs, compose, compare supergraphs as syntax trees."""

from __future__ import annotations

from pathlib import Path

from graphql import parse, print_ast
from graphql.language import DefinitionNode, DirectiveDefinitionNode, SchemaDefinitionNode

from router.composition import CompositionError, SubgraphInput, compose

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED = "supergraph.graphql"
DEFAULT_URL = "http://{name}.example/graphql"


def load_subgraphs(fixture: str, url: str = DEFAULT_URL) -> list[SubgraphInput]:
    files = sorted((FIXTURES / fixture).glob("*.graphql"))
    return [
        SubgraphInput(f.stem, url.format(name=f.stem), f.read_text())
        for f in files
        if f.name != EXPECTED
    ]


def expected_supergraph(fixture: str, name: str = EXPECTED) -> str:
    return (FIXTURES / fixture / name).read_text()


def compose_ok(subgraphs: list[SubgraphInput]) -> str:
    result = compose(subgraphs)
    assert result.errors == []
    assert result.supergraph_sdl is not None
    return result.supergraph_sdl


def compose_errors(*sdls: tuple[str, str]) -> list[CompositionError]:
    result = compose(
        [SubgraphInput(name, DEFAULT_URL.format(name=name), sdl) for name, sdl in sdls]
    )
    assert result.supergraph_sdl is None
    return result.errors


def _sort_key(node: DefinitionNode) -> tuple[int, str]:
    if isinstance(node, SchemaDefinitionNode):
        return 0, ""
    name = node.name.value  # type: ignore[attr-defined]
    return (1 if isinstance(node, DirectiveDefinitionNode) else 2), name


def normalised(sdl: str) -> list[str]:
    """Definitions printed one by one and sorted: what two equivalent supergraphs share."""
    document = parse(sdl)
    return [print_ast(d) for d in sorted(document.definitions, key=_sort_key)]


def assert_same_supergraph(actual: str, expected: str) -> None:
    assert normalised(actual) == normalised(expected)
    assert actual == expected


def block_lines(supergraph: str, header: str) -> list[str]:
    """The stripped lines between the braces of the definition starting with `header`."""
    body = supergraph.split(header + "\n", 1)[1].split("{\n", 1)[1].split("\n}", 1)[0]
    return [line.strip() for line in body.splitlines()]


FED2 = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3",'
    ' import: ["@key", "@shareable", "@external", "@requires", "@provides", "@override"])\n'
)
