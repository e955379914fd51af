"""Every error is reported (not only the first), each with subgraphs, coordinate and hint."""

from router.composition import SubgraphInput, compose

from .support import FED2, compose_errors


def test_errors_from_several_subgraphs_are_all_reported() -> None:
    errors = compose_errors(
        ("a", FED2 + 'type Query { t: T } type T @key(fields: "idd") { id: ID! }'),
        ("b", FED2 + 'type T @key(fields: "id") { id: ID! z: Int @external }'),
    )
    assert [(e.code, e.subgraphs) for e in errors] == [
        ("KEY_INVALID_FIELDS", ("a",)),
        ("EXTERNAL_UNUSED", ("b",)),
    ]
    assert all(e.hint and e.coordinate for e in errors)


def test_merge_errors_are_all_reported() -> None:
    errors = compose_errors(
        ("a", FED2 + "type Query { t: T } type T @shareable { f: String g: Int h: Int }"),
        ("b", FED2 + "type T @shareable { f: Int g: String h: Int }"),
    )
    assert [e.coordinate for e in errors] == ["T.f", "T.g"]


def test_invalid_sdl() -> None:
    (err,) = compose_errors(("a", "type Query { t: T "), ("b", FED2 + "type T { x: Int }"))
    assert err.code == "INVALID_GRAPHQL"
    assert err.subgraphs == ("a",)


def test_unknown_federation_import() -> None:
    sdl = (
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.5",'
        ' import: ["@key", "@policy"]) type Query { x: Int }'
    )
    (err,) = compose_errors(("a", sdl))
    assert err.code == "INVALID_LINK_DIRECTIVE_USAGE"
    assert err.message == '[a] Cannot import unknown element "@policy".'


def test_override_from_self() -> None:
    errors = compose_errors(
        (
            "a",
            FED2 + "type Query { t: T }"
            ' type T @key(fields: "id") { id: ID! x: Int @override(from: "a") }',
        ),
    )
    assert [e.code for e in errors] == ["OVERRIDE_FROM_SELF_ERROR"]


def test_duplicate_subgraph_names() -> None:
    sdl = FED2 + "type Query { x: Int }"
    result = compose([SubgraphInput("a", "http://a", sdl), SubgraphInput("a", "http://b", sdl)])
    assert [e.code for e in result.errors] == ["INVALID_SUBGRAPH_NAME"]


def test_error_str_names_code_subgraphs_and_hint() -> None:
    (err,) = compose_errors(("a", FED2 + 'type Query { t: Int @provides(fields: "x") }'))
    text = str(err)
    assert text.startswith("PROVIDES_ON_NON_OBJECT_FIELD [a]: ")
    assert "Hint: " in text
