"""schema/subgraphs/*.graphql are generated from code; they must match it."""

from __future__ import annotations

from lms.cli import SCHEMA_DIR
from lms.services import available_services, schema_sdl


def test_checked_in_subgraph_schemas_are_fresh() -> None:
    stale = [
        name
        for name in available_services()
        if not (SCHEMA_DIR / f"{name}.graphql").exists()
        or (SCHEMA_DIR / f"{name}.graphql").read_text() != schema_sdl(name)
    ]
    assert stale == [], f"run `lms export-schema` and commit: {stale}"
