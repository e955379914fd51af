"""Merging types, fields, arguments, enums, inputs, unions, overrides (expected: Apollo's)."""

import pytest

from router.composition import SubgraphInput, compose

from .support import (
    FED2,
    assert_same_supergraph,
    block_lines,
    compose_ok,
    expected_supergraph,
    load_subgraphs,
)


@pytest.mark.parametrize(
    "fixture",
    [
        "merging_basic",
        "merging_override",
        "merging_roots_and_deprecations",
        "merging_descriptions_and_tags",
        "interface_object",
        "fed1_mixed",
    ],
)
def test_fixture_composes_like_apollo(fixture: str) -> None:
    supergraph = compose_ok(load_subgraphs(fixture))
    assert_same_supergraph(supergraph, expected_supergraph(fixture))


def _field_line(supergraph: str, type_name: str, field: str) -> str:
    lines = block_lines(supergraph, f"type {type_name}")
    return next(line for line in lines if line.startswith(field))


def test_output_field_arguments_are_intersected_and_types_generalised() -> None:
    supergraph = compose_ok(load_subgraphs("merging_basic"))
    line = _field_line(supergraph, "User", "age")
    assert line == (
        'age(x: Int!): Int @join__field(graph: A, type: "Int") @join__field(graph: B, type: "Int!")'
    )


def test_output_only_enum_is_a_union_of_values() -> None:
    supergraph = compose_ok(load_subgraphs("merging_basic"))
    values = block_lines(supergraph, "enum E")
    assert [line.split()[0] for line in values] == ["A", "B", "C", "D"]


def test_input_only_enum_is_an_intersection() -> None:
    subgraphs = [
        SubgraphInput("a", "http://a", FED2 + "type Query { f(e: E): Int } enum E { A B }"),
        SubgraphInput("b", "http://b", FED2 + "type Query { g(e: E): Int } enum E { B C }"),
    ]
    result = compose(subgraphs)
    assert result.supergraph_sdl is not None
    values = block_lines(result.supergraph_sdl, "enum E")
    assert values == ["B @join__enumValue(graph: A) @join__enumValue(graph: B)"]


def test_input_object_fields_are_intersected() -> None:
    supergraph = compose_ok(load_subgraphs("merging_basic"))
    assert block_lines(supergraph, "input In") == ["a: Int", "b: String!"]


def test_progressive_override_keeps_both_subgraphs_with_label() -> None:
    supergraph = compose_ok(load_subgraphs("merging_override"))
    assert _field_line(supergraph, "T", "a:") == (
        'a: Int @join__field(graph: A, override: "b", overrideLabel: "percent(5)")'
        ' @join__field(graph: B, usedOverridden: true, overrideLabel: "percent(5)")'
    )
    assert '@link(url: "https://specs.apollo.dev/join/v0.4", for: EXECUTION)' in supergraph


def test_interface_object_fields_reach_the_implementations() -> None:
    supergraph = compose_ok(load_subgraphs("interface_object"))
    assert "completedBy: Int! @join__field\n" in supergraph
    assert '@join__type(graph: PROGRESS, key: "id", isInterfaceObject: true)' in supergraph


def test_subgraph_order_does_not_matter() -> None:
    subgraphs = load_subgraphs("merging_basic")
    assert compose_ok(list(reversed(subgraphs))) == compose_ok(subgraphs)
