"""The subgraphs that exist in this tree, found by convention: subgraphs/<name>/{app,schema}.py."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from common.settings import SERVICES, Settings
from lms.errors import CommandError

SUBGRAPHS_DIR = Path(__file__).resolve().parents[1] / "subgraphs"


def available_services() -> list[str]:
    return [name for name in SERVICES if (SUBGRAPHS_DIR / name / "app.py").exists()]


def require_service(name: str) -> str:
    if name not in available_services():
        known = ", ".join(available_services())
        raise CommandError(f"unknown service {name!r}; this tree has: {known}")
    return name


def create_app(name: str, settings: Settings) -> Starlette:
    module = importlib.import_module(f"subgraphs.{require_service(name)}.app")
    app: Starlette = module.create_app(settings)
    return app


def schema_sdl(name: str) -> str:
    module: Any = importlib.import_module(f"subgraphs.{require_service(name)}.schema")
    return str(module.schema.as_str()) + "\n"


async def seed(name: str, settings: Settings) -> list[str]:
    """Run the service's demo-data seeder if it has one; returns lines to show the developer."""
    if importlib.util.find_spec(f"subgraphs.{name}.seed") is None:
        return []
    module: Any = importlib.import_module(f"subgraphs.{name}.seed")
    lines: list[str] = await module.seed(settings)
    return lines


def spec(name: str) -> Any:
    """The subgraph's ServiceSpec (its app module's SPEC)."""
    module: Any = importlib.import_module(f"subgraphs.{require_service(name)}.app")
    return module.SPEC
