"""@external fields nothing uses."""

from router.composition import SubgraphInput, compose

from .support import FED2, compose_errors


def test_unused_external_field() -> None:
    (err,) = compose_errors(
        ("a", FED2 + 'type Query { t: T } type T @key(fields: "id") { id: ID! y: Int @external }'),
        ("b", FED2 + 'type T @key(fields: "id") { id: ID! y: Int }'),
    )
    assert err.code == "EXTERNAL_UNUSED"
    assert err.message == (
        '[a] Field "T.y" is marked @external but is not used in any federation directive (@key,'
        " @provides, @requires) or to satisfy an interface; the field declaration has no use and"
        " should be removed (or the field should not be @external)."
    )
    assert (err.subgraphs, err.coordinate) == (("a",), "T.y")


def test_external_satisfying_an_interface_is_used() -> None:
    result = compose(
        [
            SubgraphInput(
                "a",
                "http://a",
                FED2 + "interface I { y: Int } type Query { t: T }"
                ' type T implements I @key(fields: "id") { id: ID! y: Int @external }',
            ),
            SubgraphInput("b", "http://b", FED2 + 'type T @key(fields: "id") { id: ID! y: Int }'),
        ]
    )
    assert [e.code for e in result.errors] != ["EXTERNAL_UNUSED"]


def test_federation_1_unused_external_is_dropped_not_reported() -> None:
    result = compose(
        [
            SubgraphInput(
                "a",
                "http://a",
                'type Query { t: T } extend type T @key(fields: "id") { id: ID! @external'
                " y: Int @external z: Int }",
            ),
            SubgraphInput(
                "b",
                "http://b",
                FED2 + 'type T @key(fields: "id") { id: ID! y: Int }',
            ),
        ]
    )
    assert result.errors == []
    assert result.supergraph_sdl is not None
    assert "y: Int @join__field(graph: B)" in result.supergraph_sdl
