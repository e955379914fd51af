"""The files the GraphiQL page loads, each under a name that changes with its content: the
npm bundles by package version, this package's own files by digest."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
NODE_MODULES = HERE / "node_modules"
STATIC = HERE / "static"

# (npm package, its browser bundle): what the page loads, in this order.
BUNDLES = (
    ("react", "umd/react.production.min.js"),
    ("react-dom", "umd/react-dom.production.min.js"),
    ("graphiql", "graphiql.min.js"),
    ("graphiql", "graphiql.min.css"),
)
OWN = ("page.css", "start.js")  # in static/; start.js runs last
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True)
class Asset:
    name: str  # as served, under graphiql/
    path: Path

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.path.suffix]


@dataclass(frozen=True)
class Assets:
    scripts: tuple[Asset, ...]
    styles: tuple[Asset, ...]

    def by_name(self) -> dict[str, Asset]:
        return {asset.name: asset for asset in (*self.styles, *self.scripts)}


def _version(node_modules: Path, package: str) -> str | None:
    try:
        manifest = json.loads((node_modules / package / "package.json").read_bytes())
    except (OSError, ValueError):
        return None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    return version if isinstance(version, str) else None


def _bundle(node_modules: Path, package: str, file: str) -> Asset | None:
    path = node_modules / package / file
    version = _version(node_modules, package)
    if version is None or not path.is_file():
        return None
    return Asset(f"{package}-{version}-{path.name}", path)


def _own(file: str) -> Asset:
    path = STATIC / file
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return Asset(f"{path.stem}-{digest}{path.suffix}", path)


def find_assets(node_modules: Path = NODE_MODULES) -> Assets | None:
    """Every file the page needs, or None when the npm packages are not (all) installed."""
    bundles = [_bundle(node_modules, package, file) for package, file in BUNDLES]
    found = [bundle for bundle in bundles if bundle is not None]
    if len(found) < len(bundles):
        return None
    every = [*found, *(_own(file) for file in OWN)]
    return Assets(
        scripts=tuple(asset for asset in every if asset.path.suffix == ".js"),
        styles=tuple(asset for asset in every if asset.path.suffix == ".css"),
    )
