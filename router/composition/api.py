"""`compose`: the pipeline initial -> expanded -> validated -> merged -> satisfiable -> printed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .errors import CompositionError, ErrorSink
from .expand import expand
from .merge import merge
from .printer import print_supergraph
from .references import check_references
from .satisfiability import check_satisfiability
from .subgraph import SubgraphInput, parse_subgraphs
from .validate import validate_subgraph


@dataclass(frozen=True)
class CompositionResult:
    supergraph_sdl: str | None = None
    errors: list[CompositionError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.supergraph_sdl is not None


def _check_names(inputs: Sequence[SubgraphInput], sink: ErrorSink) -> None:
    seen: set[str] = set()
    for inp in inputs:
        if inp.name in seen:
            sink.add(
                "INVALID_SUBGRAPH_NAME",
                f'A subgraph named "{inp.name}" is given more than once.',
                [inp.name],
                None,
                "Give each subgraph a unique name.",
            )
        seen.add(inp.name)


def compose(subgraphs: Sequence[SubgraphInput]) -> CompositionResult:
    """initial -> expanded -> validated -> merged -> satisfiable -> printed.

    Each stage reports all the errors it finds; the next stage runs only on a clean result.
    """
    sink = ErrorSink()
    _check_names(subgraphs, sink)
    initial = parse_subgraphs(subgraphs, sink)
    for subgraph in initial:
        check_references(subgraph, sink)
    expanded = [expand(s) for s in initial]
    validated = [validate_subgraph(s, sink) for s in expanded]
    if sink.errors:
        return CompositionResult(errors=sink.errors)
    merged = merge(validated, sink)
    if merged is None:
        return CompositionResult(errors=sink.errors)
    satisfiable = check_satisfiability(merged, validated, sink)
    if satisfiable is None:
        return CompositionResult(errors=sink.errors)
    return CompositionResult(supergraph_sdl=print_supergraph(satisfiable))
