"""@key field sets that select missing, invalid or argument-taking fields."""

from .support import FED2, compose_errors

OTHER = ("b", FED2 + 'type T @key(fields: "id") { id: ID! z: Int }')


def test_key_on_missing_field() -> None:
    (err,) = compose_errors(
        ("a", FED2 + 'type Query { t: T } type T @key(fields: "idd") { id: ID! }'), OTHER
    )
    assert err.code == "KEY_INVALID_FIELDS"
    assert err.message == (
        '[a] On type "T", for @key(fields: "idd"): Cannot query field "idd" on type "T" (the'
        " field should either be added to this subgraph or, if it should not be resolved by"
        " this subgraph, you need to add it to this subgraph with @external)."
    )
    assert (err.subgraphs, err.coordinate) == (("a",), "T")


def test_key_with_invalid_syntax() -> None:
    (err,) = compose_errors(
        ("a", FED2 + 'type Query { t: T } type T @key(fields: "id {") { id: ID! }'), OTHER
    )
    assert err.code == "KEY_INVALID_FIELDS"
    assert "Syntax Error" in err.message


def test_key_selecting_an_interface() -> None:
    (err,) = compose_errors(
        (
            "a",
            FED2 + "type Query { t: T } interface I { x: Int }"
            ' type T @key(fields: "i { x }") { id: ID! i: I }',
        ),
        OTHER,
    )
    assert err.code == "KEY_FIELDS_SELECT_INVALID_TYPE"
    assert err.message == (
        '[a] On type "T", for @key(fields: "i { x }"): field "T.i" is a Interface type which is'
        " not allowed in @key"
    )


def test_key_on_field_with_arguments() -> None:
    (err,) = compose_errors(
        ("a", FED2 + 'type Query { t: T } type T @key(fields: "x") { id: ID! x(a: Int): Int }'),
        OTHER,
    )
    assert err.code == "KEY_FIELDS_HAS_ARGS"
    assert err.message == (
        '[a] On type "T", for @key(fields: "x"): field T.x cannot be included because it has'
        " arguments (fields with argument are not allowed in @key)"
    )
