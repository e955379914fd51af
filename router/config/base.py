"""What every section of `router.yaml` shares: unknown keys refused, values immutable, and
durations written as Apollo Router writes them (``30s``, ``500ms``, ``1m``; a bare number is
seconds)."""

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
DURATION_PATTERN = r"^\d+(\.\d+)?(ms|s|m|h|d)?$"


def parse_duration(value: Any) -> float:
    """Seconds, from ``250ms``, ``30s``, ``5m``, ``1h``, ``1d`` or a number of seconds (a text
    too, as `${env.NAME}` expands to)."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a text such as 30s, 500ms, 5m")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    else:
        raise ValueError("a duration is a number of seconds or a text such as 30s, 500ms, 5m")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION_PATTERN},
                {"type": "number", "minimum": 0},
            ],
            "description": "seconds, or a duration such as 500ms, 30s, 5m, 1h",
        }
    ),
]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Ratio = Annotated[float, Field(ge=0, le=1)]


class Section(BaseModel):
    """A mapping of `router.yaml`: any key it does not declare is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)
