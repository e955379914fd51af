"""Composition errors: values that name the subgraphs, the schema coordinate and a hint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CompositionError:
    code: str
    message: str
    subgraphs: tuple[str, ...] = ()
    coordinate: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = f" [{', '.join(self.subgraphs)}]" if self.subgraphs else ""
        hint = f" Hint: {self.hint}" if self.hint else ""
        return f"{self.code}{where}: {self.message}{hint}"


def error(
    code: str,
    message: str,
    subgraphs: Sequence[str] = (),
    coordinate: str | None = None,
    hint: str | None = None,
) -> CompositionError:
    return CompositionError(code, message, tuple(subgraphs), coordinate, hint)


@dataclass
class ErrorSink:
    """Collects every error of a stage; stages never stop at the first one."""

    errors: list[CompositionError] = field(default_factory=list)

    def add(
        self,
        code: str,
        message: str,
        subgraphs: Sequence[str] = (),
        coordinate: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.errors.append(error(code, message, subgraphs, coordinate, hint))

    def extend(self, errors: Sequence[CompositionError]) -> None:
        self.errors.extend(errors)


def quote_list(names: Sequence[str]) -> str:
    quoted = [f'"{n}"' for n in names]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def grouped_by_value(pairs: Sequence[tuple[str, str]], what: str = "type") -> str:
    """'type "Int" in subgraphs "a" and "c" but type "String" in subgraph "b"'."""
    groups: dict[str, list[str]] = {}
    for subgraph, value in pairs:
        groups.setdefault(value, []).append(subgraph)
    parts = [
        f'{what} "{value}" in subgraph{"s" if len(names) > 1 else ""} {quote_list(names)}'
        for value, names in groups.items()
    ]
    return " but ".join(parts)
