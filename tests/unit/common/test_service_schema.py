"""Every subgraph's schema refuses hostile operations with a code, before resolving anything."""

from __future__ import annotations

import strawberry

from common.graphql.schema import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS, ServiceSchema


@strawberry.type
class Node:
    @strawberry.field
    def child(self) -> Node:
        return Node()

    @strawberry.field
    def name(self) -> str:
        return "n"


@strawberry.type
class Query:
    @strawberry.field
    def node(self) -> Node:
        return Node()

    @strawberry.field
    def boom(self) -> str:
        raise RuntimeError("database password is hunter2")


SCHEMA = ServiceSchema(query=Query)


async def _codes(query: str) -> list[str]:
    result = await SCHEMA.execute(query)
    return [(error.extensions or {}).get("code", "") for error in result.errors or []]


def _nested(depth: int) -> str:
    return "{ node { " + "child { " * (depth - 2) + "name" + " }" * (depth - 1) + " }"


async def test_depth_up_to_the_limit_runs_beyond_it_is_refused() -> None:
    assert await _codes(_nested(MAX_DEPTH)) == []
    assert await _codes(_nested(MAX_DEPTH + 1)) == ["MAX_DEPTH_LIMIT"]


async def test_too_many_aliases_are_refused() -> None:
    query = "{ node { " + " ".join(f"a{i}: name" for i in range(MAX_ALIASES + 1)) + " } }"
    assert await _codes(query) == ["MAX_ALIASES_LIMIT"]


async def test_too_many_tokens_are_refused_as_a_parse_failure() -> None:
    query = "{ node { " + "name " * MAX_TOKENS + "} }"
    assert await _codes(query) == ["GRAPHQL_PARSE_FAILED"]


async def test_unexpected_errors_reach_the_client_without_details() -> None:
    result = await SCHEMA.execute("{ boom }")
    assert result.errors is not None
    [error] = result.errors
    assert error.message == "Internal server error."
    assert error.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert "hunter2" not in str(error.formatted)


async def test_fragment_bombs_are_refused_by_their_expanded_size() -> None:
    fragments = " ".join(
        f"fragment F{i} on Node {{ {' '.join([f'...F{i + 1}'] * 10)} }}" for i in range(11)
    )
    query = "{ node { ...F0 } } " + fragments + " fragment F11 on Node { name }"
    assert await _codes(query) == ["MAX_RECURSIVE_SELECTIONS_LIMIT"]


async def test_validation_gives_up_early_on_repeated_fields() -> None:
    assert await _codes("{ node { " + "name " * 800 + "} }") == ["GRAPHQL_VALIDATION_FAILED"]
    assert await _codes("{ node { " + "name " * 50 + "} }") == []
