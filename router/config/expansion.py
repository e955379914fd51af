"""`${env.NAME}` and `${env.NAME:-default}` in the string values of `router.yaml`, as Apollo
Router expands them: before validation, so an expanded value is checked like a written one."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_ENV = re.compile(r"^env\.([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$", re.DOTALL)

Path = tuple[str | int, ...]


@dataclass
class Expansion:
    """The expanded document; each expanded value remembers what was written, so an error
    about it shows ``${env.NAME}`` rather than what may be a secret."""

    written: dict[str, str] = field(default_factory=dict)  # expanded value -> as written
    problems: list[tuple[Path, str]] = field(default_factory=list)


def expand(data: Any, environ: Mapping[str, str]) -> tuple[Any, Expansion]:
    expansion = Expansion()
    return _expand(data, (), environ, expansion), expansion


def _expand(value: Any, path: Path, environ: Mapping[str, str], expansion: Expansion) -> Any:
    if isinstance(value, dict):
        return {k: _expand(v, (*path, k), environ, expansion) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, (*path, i), environ, expansion) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def substitute(match: re.Match[str]) -> str:
        reference = _ENV.match(match.group(1))
        if reference is None:
            expansion.problems.append(
                (path, f"cannot expand `{match.group(0)}`: write ${{env.NAME}} or "
                 "${env.NAME:-default}"),
            )  # fmt: skip
            return match.group(0)
        name, default = reference.groups()
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        expansion.problems.append(
            (path, f"environment variable {name} is not set (and `{match.group(0)}` has no "
             "default: write ${env.NAME:-default})"),
        )  # fmt: skip
        return match.group(0)

    expanded = _REFERENCE.sub(substitute, value)
    if expanded != value:
        expansion.written[expanded] = value
    return expanded
