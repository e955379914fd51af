"""Directives that survive into the supergraph (@tag, @inaccessible, authorization, composed)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from graphql import print_ast

from ..model import Directive, Element
from .authorization import DNF_ARGUMENTS, conjunction

SPEC_DIRECTIVES = (
    "tag",
    "inaccessible",
    "authenticated",
    "requiresScopes",
    "policy",
    "cost",
    "listSize",
)
BUILT_IN_KEPT = ("deprecated", "specifiedBy")
AUTHORIZATION = ("authenticated", "requiresScopes", "policy")


def _signature(directive: Directive) -> tuple[str, tuple[tuple[str, str], ...]]:
    return directive.name, tuple((k, print_ast(v)) for k, v in directive.args.items())


def merge_applied(
    elements: Iterable[Element], kept: frozenset[str], on_field: bool
) -> tuple[list[Directive], list[Directive]]:
    """The merged applications, split into those printed before and after the join directives."""
    gathered: dict[tuple[str, tuple[tuple[str, str], ...]], Directive] = {}
    for element in elements:
        for directive in element.directives:
            if directive.name in kept:
                gathered.setdefault(_signature(directive), directive)
    merged = list(gathered.values())
    leading = [d for d in merged if d.name == "inaccessible"][:1]
    rest = [d for d in merged if d.name != "inaccessible"]
    if on_field:
        auth = sorted(
            (d for d in rest if d.name in AUTHORIZATION), key=lambda d: AUTHORIZATION.index(d.name)
        )
        rest = auth + [d for d in rest if d.name not in AUTHORIZATION]
    return leading, _single_authorization(rest)


def _single_authorization(directives: Sequence[Directive]) -> list[Directive]:
    """Non-repeatable authorization directives: one application, at the first one's place."""
    result: list[Directive] = []
    for directive in directives:
        if directive.name not in AUTHORIZATION:
            result.append(directive)
        elif all(d.name != directive.name for d in result):
            same = [d for d in directives if d.name == directive.name]
            result.append(conjunction(same) if directive.name in DNF_ARGUMENTS else directive)
    return result
