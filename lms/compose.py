"""``lms compose``: schema/supergraph.yaml and subgraph SDLs in, schema/supergraph.graphql out.

supergraph.yaml follows the shape of Apollo Rover's config: each subgraph has a
``routing_url`` and a ``schema`` source, one of

- ``code: true``: the SDL the subgraph's Strawberry schema prints (no network needed);
- ``subgraph_url: <url>``: ask a running subgraph for ``_service { sdl }``;
- ``file: <path>``: an SDL file, relative to the yaml file.

The composer is our own (router.composition); every composition error is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from lms import services
from router.composition import SubgraphInput, compose

SCHEMA_ROOT = Path(__file__).resolve().parents[1] / "schema"
CONFIG_PATH = SCHEMA_ROOT / "supergraph.yaml"
SUPERGRAPH_PATH = SCHEMA_ROOT / "supergraph.graphql"
SUBGRAPHS_DIR = SCHEMA_ROOT / "subgraphs"
SERVICE_SDL_QUERY = "query SubgraphSdl { _service { sdl } }"


class ComposeError(Exception):
    """The configuration is wrong, a subgraph cannot be read, or composition failed."""


@dataclass(frozen=True)
class SubgraphSource:
    name: str
    routing_url: str
    code: bool = False
    subgraph_url: str | None = None
    file: Path | None = None


def _source(name: str, entry: Any, base: Path) -> SubgraphSource:
    if not isinstance(entry, dict) or not isinstance(entry.get("routing_url"), str):
        raise ComposeError(f"subgraph {name!r}: needs a routing_url string")
    schema = entry.get("schema")
    if not isinstance(schema, dict) or len(schema) != 1:
        raise ComposeError(
            f"subgraph {name!r}: schema needs exactly one of code, subgraph_url, file"
        )
    (kind, value), *_ = schema.items()
    routing_url = entry["routing_url"]
    if kind == "code" and value is True:
        services.require_service(name)
        return SubgraphSource(name, routing_url, code=True)
    if kind == "subgraph_url" and isinstance(value, str):
        return SubgraphSource(name, routing_url, subgraph_url=value)
    if kind == "file" and isinstance(value, str):
        return SubgraphSource(name, routing_url, file=base / value)
    raise ComposeError(f"subgraph {name!r}: unknown schema source {kind}: {value!r}")


def load_config(path: Path = CONFIG_PATH) -> list[SubgraphSource]:
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ComposeError(f"cannot read {path}: {error}") from error
    subgraphs = document.get("subgraphs") if isinstance(document, dict) else None
    if not isinstance(subgraphs, dict) or not subgraphs:
        raise ComposeError(f"{path}: expected a non-empty 'subgraphs' mapping")
    return [_source(str(name), entry, path.parent) for name, entry in subgraphs.items()]


def introspect_sdl(url: str, timeout: float = 10.0) -> str:
    try:
        response = httpx.post(url, json={"query": SERVICE_SDL_QUERY}, timeout=timeout)
        response.raise_for_status()
        sdl = response.json()["data"]["_service"]["sdl"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
        raise ComposeError(f"cannot read _service {{ sdl }} from {url}: {error}") from error
    if not isinstance(sdl, str):
        raise ComposeError(f"{url} answered _service.sdl with {type(sdl).__name__}")
    return sdl


def subgraph_sdl(source: SubgraphSource) -> str:
    if source.code:
        return services.schema_sdl(source.name)
    if source.subgraph_url is not None:
        return introspect_sdl(source.subgraph_url)
    assert source.file is not None
    try:
        return source.file.read_text()
    except OSError as error:
        raise ComposeError(
            f"subgraph {source.name!r}: cannot read {source.file}: {error}"
        ) from error


def compose_sources(sources: list[SubgraphSource]) -> tuple[str, dict[str, str]]:
    """The supergraph SDL and each subgraph's SDL; ComposeError lists every composition error."""
    sdls = {source.name: subgraph_sdl(source) for source in sources}
    result = compose([SubgraphInput(s.name, s.routing_url, sdls[s.name]) for s in sources])
    if result.supergraph_sdl is None:
        details = "\n".join(f"  - {error}" for error in result.errors)
        raise ComposeError(f"composition failed with {len(result.errors)} error(s):\n{details}")
    return result.supergraph_sdl + "\n", sdls


def write_schema(
    config: Path = CONFIG_PATH,
    supergraph: Path = SUPERGRAPH_PATH,
    subgraphs_dir: Path = SUBGRAPHS_DIR,
) -> list[Path]:
    supergraph_sdl, sdls = compose_sources(load_config(config))
    subgraphs_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, sdl in sdls.items():
        path = subgraphs_dir / f"{name}.graphql"
        path.write_text(sdl if sdl.endswith("\n") else sdl + "\n")
        written.append(path)
    supergraph.write_text(supergraph_sdl)
    written.append(supergraph)
    return written
