"""@inaccessible types referenced from the API schema."""

from .support import compose_errors

SDL = """
extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@inaccessible"])
type Query { me: User you(x: Secret): Int ok: User @inaccessible }
type User @key(fields: "id") @inaccessible { id: ID! }
input Secret @inaccessible { a: Int }
input Wrap { s: Secret }
"""


def test_every_reference_from_the_api_schema_is_reported() -> None:
    errors = compose_errors(("a", SDL))
    assert [(e.code, e.coordinate) for e in errors] == [
        ("REFERENCED_INACCESSIBLE", "Query.me"),
        ("REFERENCED_INACCESSIBLE", "Query.you(x:)"),
        ("REFERENCED_INACCESSIBLE", "Wrap.s"),
    ]
    assert errors[0].message == (
        'Type "User" is @inaccessible but is referenced by "Query.me", which is in the API schema.'
    )
