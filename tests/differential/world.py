"""The supergraphs the differential harness runs on: subgraph SDLs and their composed supergraph."""

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from graphql import GraphQLSchema, build_schema

HERE = Path(__file__).parent
SUPERGRAPHS = HERE / "supergraphs"
PLACEHOLDER = "http://subgraphs.invalid/"


@dataclass(frozen=True)
class World:
    """One supergraph: its subgraphs' SDL by name and Apollo composition's output."""

    name: str
    subgraphs: dict[str, str]
    supergraph: str

    def supergraph_at(self, base_url: str) -> str:
        """The composed text with every subgraph URL pointing at ``base_url``/<name>."""
        return self.supergraph.replace(PLACEHOLDER, f"{base_url}/{self.name}/")

    @cached_property
    def supergraph_schema(self) -> GraphQLSchema:
        return build_schema(self.supergraph)


def directory(name: str) -> Path:
    return SUPERGRAPHS / name


def world_names() -> list[str]:
    return sorted(path.name for path in SUPERGRAPHS.iterdir() if (path / "subgraphs").is_dir())


def load(name: str) -> World:
    folder = directory(name)
    subgraphs = {
        path.stem: path.read_text() for path in sorted((folder / "subgraphs").glob("*.graphql"))
    }
    return World(name, subgraphs, (folder / "supergraph.graphql").read_text())
