from collections.abc import Collection
from textwrap import dedent

from graphql import parse

from router.planning import plan, print_plan
from router.supergraph import Supergraph


def plan_text(
    supergraph: Supergraph,
    query: str,
    operation_name: str | None = None,
    labels: Collection[str] = (),
) -> str:
    return print_plan(plan(supergraph, parse(query), operation_name, labels=frozenset(labels)))


def snapshot(text: str) -> str:
    return dedent(text).strip()
