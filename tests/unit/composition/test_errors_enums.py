"""Enum inconsistencies: used as input and output, values must match."""

from router.composition import SubgraphInput, compose

from .support import FED2, compose_errors


def test_enum_used_both_ways_must_match() -> None:
    errors = compose_errors(
        ("a", FED2 + "type Query { t(e: E): E } enum E { A B }"),
        ("b", FED2 + "type Query { u: E } enum E { A C }"),
    )
    assert [(e.code, e.coordinate) for e in errors] == [
        ("ENUM_VALUE_MISMATCH", "E.B"),
        ("ENUM_VALUE_MISMATCH", "E.C"),
    ]
    assert errors[0].message == (
        'Enum type "E" is used as both input type (for example, as type of "Query.t(e:)") and'
        ' output type (for example, as type of "Query.t"), but value "B" is not defined in all'
        ' the subgraphs defining "E": "B" is defined in subgraph "a" but not in subgraph "b"'
    )
    assert errors[0].subgraphs == ("a", "b")


def test_inaccessible_value_may_be_missing() -> None:
    import_inaccessible = FED2.replace('"@override"]', '"@override", "@inaccessible"]')
    result = compose(
        [
            SubgraphInput("a", "http://a", FED2 + "type Query { t(e: E): E } enum E { A }"),
            SubgraphInput(
                "b",
                "http://b",
                import_inaccessible + "type Query { u: E } enum E { A B @inaccessible }",
            ),
        ]
    )
    assert result.errors == []


def test_input_only_enum_without_common_values() -> None:
    (err,) = compose_errors(
        ("a", FED2 + "type Query { t(e: E): Int } enum E { A }"),
        ("b", FED2 + "type Query { u(e: E): Int } enum E { B }"),
    )
    assert err.code == "EMPTY_MERGED_ENUM_TYPE"
