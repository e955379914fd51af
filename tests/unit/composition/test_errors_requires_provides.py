"""@requires and @provides naming unknown or non-external fields."""

from .support import FED2, compose_errors

OTHER = ("b", FED2 + 'type T @key(fields: "id") { id: ID! y: Int }')


def test_requires_unknown_field() -> None:
    (err,) = compose_errors(
        (
            "a",
            FED2 + "type Query { t: T }"
            ' type T @key(fields: "id") { id: ID! x: Int @requires(fields: "nope") }',
        ),
        OTHER,
    )
    assert err.code == "REQUIRES_INVALID_FIELDS"
    assert err.message == (
        '[a] On field "T.x", for @requires(fields: "nope"): Cannot query field "nope" on type "T"'
        " (if the field is defined in another subgraph, you need to add it to this subgraph"
        " with @external)."
    )
    assert err.coordinate == "T.x"


def test_requires_non_external_field() -> None:
    (err,) = compose_errors(
        (
            "a",
            FED2 + "type Query { t: T }"
            ' type T @key(fields: "id") { id: ID! x: Int z: Int @requires(fields: "x") }',
        ),
        OTHER,
    )
    assert err.code == "REQUIRES_FIELDS_MISSING_EXTERNAL"
    assert err.message == (
        '[a] On field "T.z", for @requires(fields: "x"): field "T.x" should not be part of a'
        " @requires since it is already provided by this subgraph (it is not marked @external)"
    )


def test_provides_unknown_field() -> None:
    (err,) = compose_errors(
        (
            "a",
            FED2
            + 'type Query { t: T @provides(fields: "nope") } type T @key(fields: "id") { id: ID! }',
        ),
        OTHER,
    )
    assert err.code == "PROVIDES_INVALID_FIELDS"
    assert err.coordinate == "Query.t"


def test_provides_non_external_field() -> None:
    (err,) = compose_errors(
        (
            "a",
            FED2 + 'type Query { t: T @provides(fields: "x") }'
            ' type T @key(fields: "id") { id: ID! x: Int }',
        ),
        OTHER,
    )
    assert err.code == "PROVIDES_FIELDS_MISSING_EXTERNAL"


def test_provides_on_a_scalar_field() -> None:
    (err,) = compose_errors(("a", FED2 + 'type Query { t: Int @provides(fields: "x") }'), OTHER)
    assert err.code == "PROVIDES_ON_NON_OBJECT_FIELD"
    assert err.message == (
        '[a] Invalid @provides directive on field "Query.t": field has type "Int" which is not a'
        " Composite Type"
    )


def test_nested_fields_under_an_external_field_need_no_external() -> None:
    errors = compose_errors(
        (
            "a",
            FED2 + 'type Query { t: T } type T @key(fields: "id") { id: ID! d: D @external'
            ' w: Int @requires(fields: "d { size }") nope: Int @requires(fields: "missing") }'
            " type D @shareable { size: Int }",
        ),
        (
            "b",
            FED2 + 'type T @key(fields: "id") { id: ID! d: D @shareable }'
            " type D @shareable { size: Int }",
        ),
    )
    assert [e.code for e in errors] == ["REQUIRES_INVALID_FIELDS"]
