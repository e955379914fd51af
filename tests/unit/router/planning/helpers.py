from textwrap import dedent

from graphql import parse

from router.planning import plan, print_plan
from router.supergraph import Supergraph


def plan_text(supergraph: Supergraph, query: str, operation_name: str | None = None) -> str:
    return print_plan(plan(supergraph, parse(query), operation_name))


def snapshot(text: str) -> str:
    return dedent(text).strip()
