"""Fields no query can reach: entities without a resolvable key in the only subgraph having them."""

from router.composition import SubgraphInput, compose

from .support import FED2, compose_errors

ROOT = ("a", FED2 + 'type Query { t: T } type T @key(fields: "id") { id: ID! }')


def test_field_only_in_subgraph_with_unresolvable_key() -> None:
    (err,) = compose_errors(
        ROOT, ("b", FED2 + 'type T @key(fields: "id", resolvable: false) { id: ID! y: Int }')
    )
    assert err.code == "SATISFIABILITY_ERROR"
    assert err.message == (
        "The following supergraph API query:\n{\n  t {\n    y\n  }\n}\ncannot be satisfied by"
        ' the subgraphs because:\n- from subgraph "a":\n  - cannot find field "T.y".\n  - cannot'
        ' move to subgraph "b", which has field "T.y", because none of the @key defined on type'
        ' "T" in subgraph "b" are resolvable (they are all declared with their "resolvable"'
        " argument set to false)."
    )
    assert (err.subgraphs, err.coordinate) == (("a", "b"), "T.y")


def test_field_only_in_subgraph_without_key() -> None:
    (err,) = compose_errors(
        ("a", FED2 + "type Query { t: T } type T @shareable { id: ID! }"),
        ("b", FED2 + "type T @shareable { id: ID! y: Int } type Query { u: U } type U { t: T }"),
    )
    assert err.code == "SATISFIABILITY_ERROR"
    assert err.message.endswith('because type "T" has no @key defined in subgraph "b".')


def test_unresolvable_reference_is_fine_when_another_subgraph_resolves() -> None:
    result = compose(
        [
            SubgraphInput(
                "a",
                "http://a",
                FED2
                + 'type Query { t: T } type T @key(fields: "id", resolvable: false) { id: ID! }',
            ),
            SubgraphInput("b", "http://b", FED2 + 'type T @key(fields: "id") { id: ID! y: Int }'),
        ]
    )
    assert result.errors == []


def test_key_fields_may_come_from_a_third_subgraph() -> None:
    result = compose(
        [
            SubgraphInput(
                "a", "http://a", FED2 + 'type Query { t: T } type T @key(fields: "id") { id: ID! }'
            ),
            SubgraphInput(
                "b",
                "http://b",
                FED2 + 'type T @key(fields: "id") { id: ID! sku: String! @shareable }',
            ),
            SubgraphInput(
                "c", "http://c", FED2 + 'type T @key(fields: "sku") { sku: String! price: Int }'
            ),
        ]
    )
    assert result.errors == []


def test_key_fields_missing_on_the_way() -> None:
    errors = compose_errors(
        ("a", FED2 + 'type Query { t(id: ID!, n: Int): T } type T @key(fields: "id") { id: ID! }'),
        ("b", FED2 + 'type T @key(fields: "sku") { sku: String! y: U } type U { z: Int }'),
    )
    assert [e.coordinate for e in errors] == ["T.sku", "T.y"]
    assert errors[1].message == (
        "The following supergraph API query:\n"
        '{\n  t(id: "<any id>", n: 0) {\n    y {\n      ...\n    }\n  }\n}\n'
        "cannot be satisfied by the subgraphs because:\n"
        '- from subgraph "a":\n  - cannot find field "T.y".\n'
        '  - cannot move to subgraph "b" using @key(fields: "sku") of "T", the key field(s)'
        ' cannot be resolved from subgraph "a".'
    )
