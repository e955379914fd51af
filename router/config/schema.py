"""`router.yaml`'s JSON Schema, for editors (`router config-schema`) and the README."""

from typing import Any

from router.config.model import RouterConfig

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema() -> dict[str, Any]:
    schema = RouterConfig.model_json_schema()
    return {"$schema": DIALECT, **schema}
