"""Conflicting field, argument and type definitions across subgraphs."""

from .support import FED2, compose_errors


def test_conflicting_field_types() -> None:
    (err,) = compose_errors(
        ("a", FED2 + "type Query { t: T } type T @shareable { f: String }"),
        ("b", FED2 + "type T @shareable { f: Int }"),
    )
    assert err.code == "FIELD_TYPE_MISMATCH"
    assert err.message == (
        'Type of field "T.f" is incompatible across subgraphs: it has type "String" in'
        ' subgraph "a" but type "Int" in subgraph "b"'
    )
    assert (err.subgraphs, err.coordinate) == (("a", "b"), "T.f")
    assert err.hint


def test_non_shareable_field_resolved_by_two_subgraphs() -> None:
    (err,) = compose_errors(
        ("a", FED2 + 'type Query { t: T } type T @key(fields: "id") { id: ID! x: Int }'),
        ("b", FED2 + 'type T @key(fields: "id") { id: ID! x: Int @shareable }'),
    )
    assert err.code == "INVALID_FIELD_SHARING"
    assert err.message == (
        'Non-shareable field "T.x" is resolved from multiple subgraphs: it is resolved from'
        ' subgraphs "a" and "b" and defined as non-shareable in subgraph "a"'
    )
    assert err.coordinate == "T.x"
    assert "@shareable" in (err.hint or "")


def test_provided_external_field_counts_as_resolving() -> None:
    errors = compose_errors(
        (
            "a",
            FED2 + 'type Query { t: T @provides(fields: "x") }'
            ' type T @key(fields: "id") { id: ID! x: Int @external }',
        ),
        ("b", FED2 + 'type T @key(fields: "id") { id: ID! x: Int }'),
    )
    assert [e.code for e in errors] == ["INVALID_FIELD_SHARING"]
    assert errors[0].message.endswith('defined as non-shareable in subgraph "b"')


def test_conflicting_input_field_types() -> None:
    (err,) = compose_errors(
        ("a", FED2 + "type Query { t(i: I): Int } input I { a: Int }"),
        ("b", FED2 + "type Query { u(i: I): Int } input I { a: String }"),
    )
    assert (err.code, err.coordinate) == ("FIELD_TYPE_MISMATCH", "I.a")


def test_conflicting_argument_types() -> None:
    (err,) = compose_errors(
        ("a", FED2 + "type Query { t(a: Int): Int @shareable }"),
        ("b", FED2 + "type Query { t(a: String): Int @shareable }"),
    )
    assert err.code == "FIELD_ARGUMENT_TYPE_MISMATCH"
    assert err.message == (
        'Type of argument "Query.t(a:)" is incompatible across subgraphs: it has type "Int" in'
        ' subgraph "a" but type "String" in subgraph "b"'
    )


def test_required_argument_missing_in_a_subgraph() -> None:
    (err,) = compose_errors(
        ("a", FED2 + "type Query { t: T } type T @shareable { f(a: Int!): Int }"),
        ("b", FED2 + "type T @shareable { f: Int }"),
    )
    assert err.code == "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH"
    assert err.coordinate == "T.f(a:)"


def test_required_input_field_missing_in_a_subgraph() -> None:
    (err,) = compose_errors(
        ("a", FED2 + "type Query { t(i: I): Int } input I { a: Int! b: Int }"),
        ("b", FED2 + "type Query { u(i: I): Int } input I { b: Int }"),
    )
    assert err.code == "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH"
    assert err.message == (
        'Input object field "I.a" is required in some subgraphs but does not appear in all'
        ' subgraphs: it is required in subgraph "a" but does not appear in subgraph "b"'
    )


def test_type_kind_mismatch() -> None:
    (err,) = compose_errors(
        ("a", FED2 + "type Query { t: T } type T { a: Int }"),
        ("b", FED2 + "interface T { a: Int }"),
    )
    assert err.code == "TYPE_KIND_MISMATCH"
    assert err.message == (
        'Type "T" has mismatched kind: it is defined as Object Type in subgraph "a" but'
        ' Interface Type in subgraph "b"'
    )
