"""Type-level errors: extensions without a base, interface objects, missing query root."""

from .support import FED2, compose_errors

IO = FED2.replace('"@override"]', '"@override", "@interfaceObject"]')


def test_extension_without_base() -> None:
    errors = compose_errors(
        ("a", FED2 + 'type Query { t: T } extend type T @key(fields: "id") { id: ID! x: Int }'),
    )
    assert [e.code for e in errors] == ["EXTENSION_WITH_NO_BASE"]
    assert errors[0].message == (
        '[a] Type "T" is an extension type, but there is no type definition for "T" in any'
        " subgraph."
    )


def test_federation_1_extends_without_base() -> None:
    errors = compose_errors(
        (
            "a",
            'type Query { t: T } type T @key(fields: "id") @extends { id: ID! @external x: Int }',
        ),
    )
    assert [e.code for e in errors] == ["EXTENSION_WITH_NO_BASE"]


def test_external_everywhere() -> None:
    errors = compose_errors(
        (
            "a",
            FED2 + 'type Query { t: T @provides(fields: "name") }'
            ' type T @key(fields: "id") { id: ID! name: String @external }',
        ),
    )
    assert [e.code for e in errors] == ["EXTERNAL_MISSING_ON_BASE"]
    assert errors[0].message == (
        'Field "T.name" is marked @external on all the subgraphs in which it is listed'
        ' (subgraph "a").'
    )


def test_interface_object_without_interface() -> None:
    errors = compose_errors(
        (
            "a",
            IO + 'type Query { n: Node } type Node @key(fields: "id") @interfaceObject { id: ID! }',
        ),
    )
    assert [e.code for e in errors] == ["INTERFACE_OBJECT_USAGE_ERROR"]
    assert errors[0].message == (
        'Type "Node" is declared with @interfaceObject in all the subgraphs in which it is'
        ' defined (it is defined in subgraph "a" but should be defined as an interface in at'
        " least one subgraph)"
    )


def test_no_queries() -> None:
    errors = compose_errors(("a", FED2 + 'type T @key(fields: "id") { id: ID! }'))
    assert [e.code for e in errors] == ["NO_QUERIES"]
