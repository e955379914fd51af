"""Reading `router.yaml`: YAML (duplicate keys refused), `${env.…}` expanded, then validated
into `RouterConfig`. Every problem is a line naming the file and the key path; none is a
traceback."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from router.config.expansion import expand
from router.config.model import RouterConfig
from router.config.problems import format_path, given_in, problems

COMMAND_LINE = "command line"


class ConfigError(ValueError):
    """A `router.yaml` that cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key written twice in one mapping (YAML forbids it;
    PyYAML would silently keep the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key `{key}` is written twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def _read_yaml(text: str, name: str) -> Any:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.MarkedYAMLError as failure:
        mark = failure.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = failure.problem or failure.context or "not YAML"
        raise ConfigError([f"{name}: {where}{problem}"]) from None
    except yaml.YAMLError as failure:
        raise ConfigError([f"{name}: not YAML: {failure}"]) from None


def merge(base: Any, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` (a mapping, else nothing) with ``overrides`` laid over it, mapping by mapping."""
    merged = dict(base) if isinstance(base, dict) else {}
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_config(
    text: str,
    name: str = "router.yaml",
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> RouterConfig:
    """The configuration ``text`` holds (``name`` is how errors call the file); an empty
    document is every default. ``overrides`` (the command line's) win over the file."""
    data = _read_yaml(text, name)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"{type(data).__name__} {data!r}"
        raise ConfigError([f"{name}: should be a mapping of sections (got {kind})"])
    data, expansion = expand(data, os.environ if environ is None else environ)
    if expansion.problems:
        raise ConfigError([f"{name}: {format_path(p)}: {m}" for p, m in expansion.problems])
    data = merge(data, overrides or {})
    try:
        return RouterConfig.model_validate(data)
    except ValidationError as failure:
        given = overrides or {}

        def source(path: tuple[str | int, ...]) -> str:
            return COMMAND_LINE if given_in(given, path) else name

        raise ConfigError(problems(failure, data, expansion.written, source)) from None


def load_config(
    path: Path,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> RouterConfig:
    """`parse_config` of the file at ``path``; an unreadable file is a `ConfigError` too."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as failure:
        reason = failure.strerror if isinstance(failure, OSError) else "not UTF-8 text"
        raise ConfigError([f"{path}: cannot read: {reason}"]) from None
    return parse_config(text, str(path), environ=environ, overrides=overrides)


@dataclass(frozen=True)
class ConfigSource:
    """Where the configuration comes from, to read it again on a change: a file (or none:
    every default) and the command line's values laid over it."""

    path: Path | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def parse(self, text: str) -> RouterConfig:
        """The configuration ``text`` (the file's new content) makes, with the overrides."""
        return parse_config(text, str(self.path), overrides=self.overrides)

    def load(self) -> RouterConfig:
        if self.path is None:
            try:
                return RouterConfig.model_validate(self.overrides)
            except ValidationError as failure:
                lines = problems(failure, self.overrides, {}, lambda _: COMMAND_LINE)
                raise ConfigError(lines) from None
        return load_config(self.path, overrides=self.overrides)
