"""@context/@fromContext refused as Apollo refuses them (codes and messages from
@apollo/composition 2.14 for the same subgraphs); valid uses compose exactly like Apollo."""

import pytest

from router.composition import SubgraphInput

from .support import (
    assert_same_supergraph,
    compose_errors,
    compose_ok,
    expected_supergraph,
    load_subgraphs,
)

HEADER = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.8",'
    ' import: ["@key", "@context", "@fromContext"])\n'
)
# T sets context "ctx"; each case adds the type that uses it
T_COUNT = """type Query { t: T! }
type T @key(fields: "id") @context(name: "ctx") { id: ID! u: U! prop: String! count: Int obj: O }
type O { a: String }
"""
T_TAGS = """type Query { t: T! }
type T @key(fields: "id") @context(name: "ctx") { id: ID! u: U! prop: String! tags: [String!]! obj: O }
type O { a: String b: Int }
"""

CASES = [
    pytest.param(
        T_COUNT
        + 'type U @key(fields: "id") { id: ID! field(a: String @fromContext(field: "$nope { prop }")): Int! }\n',
        [
            [
                "CONTEXT_NOT_SET",
                '[a] Context "nope" is used at location "U.field(a:)" but is never set.',
            ]
        ],
        id="not_set",
    ),
    pytest.param(
        T_TAGS
        + 'type U @key(fields: "id") { id: ID! f(a: String @fromContext(field: "$x { prop }"), b: Int @fromContext(field: "$ctx { prop }")): Int }',
        [
            ["CONTEXT_NOT_SET", '[a] Context "x" is used at location "U.f(a:)" but is never set.'],
            [
                "CONTEXT_INVALID_SELECTION",
                '[a] Context "ctx" is used in "U.f(b:)" but the selection is invalid: the type of the selection "String" does not match the expected type "Int"',
            ],
        ],
        id="two_fromcontext_errors",
    ),
    pytest.param(
        T_TAGS
        + 'type U @key(fields: "id") { id: ID! i: I }\ninterface I { f(a: String @fromContext(field: "$ctx { prop }")): Int }\ntype X implements I @key(fields: "id") { id: ID! f(a: String): Int }',
        [
            [
                "CONTEXT_NOT_SET",
                '[a] @fromContext argument cannot be used on a field that exists on an abstract type "I.f(a:)".',
            ]
        ],
        id="abstract",
    ),
    pytest.param(
        T_TAGS
        + 'interface I { f: Int }\ntype U implements I @key(fields: "id") { id: ID! f(a: String @fromContext(field: "$ctx { prop }")): Int }',
        [
            [
                "CONTEXT_NOT_SET",
                '[a] @fromContext argument cannot be used on a field implementing an interface field "I.f".',
            ]
        ],
        id="implements",
    ),
    pytest.param(
        T_TAGS
        + 'type U @key(fields: "id") { id: ID! f(a: String = "x" @fromContext(field: "$ctx { prop }")): Int }',
        [
            [
                "CONTEXT_NOT_SET",
                '[a] @fromContext arguments may not have a default value: "U.f(a:)".',
            ]
        ],
        id="default",
    ),
    pytest.param(
        T_COUNT
        + 'type U @key(fields: "id") { id: ID! field(a: String @fromContext(field: "$ctx")): Int! }\n',
        [
            [
                "NO_CONTEXT_IN_SELECTION",
                '[a] @fromContext argument does not reference a context "$ctx".',
            ]
        ],
        id="no_selection",
    ),
    pytest.param(
        T_COUNT
        + 'type U @key(fields: "id") { id: ID! field(a: String @fromContext(field: "$ctx { prop id }")): Int! }\n',
        [
            [
                "CONTEXT_INVALID_SELECTION",
                '[a] Context "ctx" is used in "U.field(a:)" but the selection is invalid: multiple selections are made',
            ]
        ],
        id="multiple",
    ),
    pytest.param(
        T_COUNT
        + 'type U @key(fields: "id") { id: ID! field(a: String @fromContext(field: "$ctx ... on T { prop } id")): Int! }\n',
        [
            [
                "CONTEXT_INVALID_SELECTION",
                '[a] Context "ctx" is used in "U.field(a:)" but the selection is invalid: multiple fields could be selected',
            ]
        ],
        id="field_and_fragment",
    ),
    pytest.param(
        T_COUNT
        + 'type U @key(fields: "id") { id: ID! field(a: String @fromContext(field: "$ctx ... on T { prop } ... on T { id }")): Int! }\n',
        [
            [
                "CONTEXT_INVALID_SELECTION",
                '[a] Context "ctx" is used in "U.field(a:)" but the selection is invalid: type conditions have same name',
            ]
        ],
        id="dup_conditions",
    ),
    pytest.param(
        T_TAGS
        + 'type U @key(fields: "id") { id: ID! f(a: String @fromContext(field: "$ctx ...F")): Int }',
        [
            [
                "CONTEXT_INVALID_SELECTION",
                '[a] Context "ctx" is used in "U.f(a:)" but the selection is invalid: fragment spread is not allowed',
            ]
        ],
        id="spread",
    ),
    pytest.param(
        T_COUNT
        + 'type U @key(fields: "id") { id: ID! field(a: String @fromContext(field: "$ctx { }")): Int! }\n',
        [
            [
                "CONTEXT_INVALID_SELECTION",
                '[a] Context "ctx" is used in "U.field(a:)" but the selection is invalid: Syntax Error: Expected Name, found "}".',
            ]
        ],
        id="empty",
    ),
    pytest.param(
        T_COUNT
        + 'type U @key(fields: "id") { id: ID! field(a: String @fromContext(field: "$ctx { nope }")): Int! }\n',
        [
            [
                "CONTEXT_INVALID_SELECTION",
                '[a] Context "ctx" is used in "U.field(a:)" but the selection is invalid for type T. Error: Cannot query field "nope" on type "T".',
            ]
        ],
        id="unknown_field",
    ),
    pytest.param(
        T_COUNT
        + 'type U @key(fields: "id") { id: ID! field(a: String @fromContext(field: "$ctx { obj }")): Int! }\n',
        [
            [
                "CONTEXT_INVALID_SELECTION",
                '[a] Context "ctx" is used in "U.field(a:)" but the selection is invalid for type T. Error: Invalid empty selection set for field "T.obj" of non-leaf type O',
            ]
        ],
        id="composite",
    ),
    pytest.param(
        T_COUNT
        + 'type U @key(fields: "id") { id: ID! field(a: String @fromContext(field: "$ctx { p: prop }")): Int! }\n',
        [
            [
                "CONTEXT_INVALID_SELECTION",
                '[a] Context "ctx" is used in "U.field(a:)" but the selection is invalid: aliases are not allowed in the selection',
            ]
        ],
        id="alias",
    ),
    pytest.param(
        T_COUNT
        + 'type U @key(fields: "id") { id: ID! field(a: String @fromContext(field: "$ctx { prop @skip(if: true) }")): Int! }\n',
        [
            [
                "CONTEXT_INVALID_SELECTION",
                '[a] Context "ctx" is used in "U.field(a:)" but the selection is invalid: directives are not allowed in the selection',
            ]
        ],
        id="directive",
    ),
    pytest.param(
        T_COUNT
        + 'type U @key(fields: "id") { id: ID! field(a: String @fromContext(field: "$ctx { count }")): Int! }\n',
        [
            [
                "CONTEXT_INVALID_SELECTION",
                '[a] Context "ctx" is used in "U.field(a:)" but the selection is invalid: the type of the selection "Int" does not match the expected type "String"',
            ]
        ],
        id="type_mismatch",
    ),
    pytest.param(
        T_TAGS
        + 'type U @key(fields: "id") { id: ID! f(a: [String!] @fromContext(field: "$ctx { tags }")): Int }',
        [
            [
                "CONTEXT_INVALID_SELECTION",
                '[a] Context "ctx" is used in "U.f(a:)" but the selection is invalid: the type of the selection "[String]" does not match the expected type "[String!]"',
            ]
        ],
        id="list_bad",
    ),
    pytest.param(
        T_TAGS
        + 'type U @key(fields: "id") { id: ID! f(a: String @fromContext(field: "$ctx { obj { a b } }")): Int }',
        [
            [
                "CONTEXT_INVALID_SELECTION",
                '[a] Context "ctx" is used in "U.f(a:)" but the selection is invalid: the type of the selection "undefined" does not match the expected type "String"',
            ]
        ],
        id="nested_two",
    ),
    pytest.param(
        T_TAGS
        + 'interface J { prop: String! }\ntype U @key(fields: "id") { id: ID! f(a: String @fromContext(field: "$ctx ... on J { prop }")): Int }',
        [
            [
                "CONTEXT_INVALID_SELECTION",
                '[a] Context "ctx" is used in "U.f(a:)" but the selection is invalid: type conditions must be an object type"',
            ],
            [
                "CONTEXT_INVALID_SELECTION",
                '[a] Context "ctx" is used in "U.f(a:)" but the selection is invalid: no type condition matches the location "T"',
            ],
        ],
        id="iface_cond",
    ),
    pytest.param(
        T_TAGS
        + 'type W { prop: String }\ntype U @key(fields: "id") { id: ID! f(a: String @fromContext(field: "$ctx ... on W { prop }")): Int }',
        [
            [
                "CONTEXT_INVALID_SELECTION",
                '[a] Context "ctx" is used in "U.f(a:)" but the selection is invalid: no type condition matches the location "T"',
            ]
        ],
        id="nomatch",
    ),
    pytest.param(
        T_COUNT
        + 'type U @key(fields: "id") { id: ID! field(a: String @fromContext(field: "$ctx ... on T { prop } ... on O { a }")): Int! }\n',
        [
            [
                "CONTEXT_INVALID_SELECTION",
                '[a] Context "ctx" is used in "U.field(a:)" but the selection is invalid: type condition "O" is never used.',
            ]
        ],
        id="unused_condition",
    ),
    pytest.param(
        T_TAGS
        + 'type U @key(fields: "id") { id: ID! f(a: Int @fromContext(field: "$ctx ... on T { prop }")): Int }',
        [
            [
                "CONTEXT_INVALID_SELECTION",
                '[a] Context "ctx" is used in "U.f(a:)" but the selection is invalid: the type of the selection "String" does not match the expected type "Int"',
            ]
        ],
        id="ok_int_mismatch_frag",
    ),
    pytest.param(
        T_TAGS + 'type U { id: ID! f(a: String @fromContext(field: "$ctx { prop }")): Int }',
        [
            [
                "CONTEXT_NO_RESOLVABLE_KEY",
                '[a] Object "U" has no resolvable key but has a field with a contextual argument.',
            ]
        ],
        id="nokey",
    ),
    pytest.param(
        T_TAGS
        + 'type U @key(fields: "id", resolvable: false) { id: ID! f(a: String @fromContext(field: "$ctx { prop }")): Int }',
        [
            [
                "CONTEXT_NO_RESOLVABLE_KEY",
                '[a] Object "U" has no resolvable key but has a field with a contextual argument.',
            ]
        ],
        id="unresolvable",
    ),
]


@pytest.mark.parametrize(("types", "expected"), CASES)
def test_invalid_context_use_is_refused_like_apollo(
    types: str, expected: list[tuple[str, str]]
) -> None:
    errors = compose_errors(("a", HEADER + types))
    assert [(e.code, e.message) for e in errors] == [tuple(pair) for pair in expected]
    assert all(e.subgraphs == ("a",) for e in errors)


def test_errors_name_the_argument_coordinate() -> None:
    uses = 'type U @key(fields: "id") { id: ID! f(a: String @fromContext(field: "$no { prop }")): Int }'
    [error] = compose_errors(("a", HEADER + T_COUNT + uses))
    assert error.coordinate == "U.f(a:)"
    assert error.hint


@pytest.mark.parametrize(
    "fixture",
    [
        "context_two_subgraphs",
        "context_type_conditions",
        "context_interface",
        "context_external",
    ],
)
def test_valid_contexts_compose_like_apollo(fixture: str) -> None:
    supergraph = compose_ok(load_subgraphs(fixture))
    assert_same_supergraph(supergraph, expected_supergraph(fixture))


UNREACHABLE = [
    pytest.param(
        [
            (
                "a",
                'extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key", "@context", "@fromContext", "@shareable"])\ntype Query { t: T! u: U }\ntype T @key(fields: "id") @context(name: "ctx") { id: ID! u: U! prop: String! }\ntype U @key(fields: "id") { id: ID! field(a: String @fromContext(field: "$ctx { prop }")): Int! }',
            ),
            (
                "b",
                'extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key"])\ntype U @key(fields: "id") { id: ID! b: String! }',
            ),
        ],
        [
            (
                "SATISFIABILITY_ERROR",
                'The following supergraph API query:\n{\n  u {\n    field\n  }\n}\ncannot be satisfied by the subgraphs because:\n- from subgraph "a": could not find a match for required context for field "U.field".\n- from subgraph "b": cannot find field "U.field".',
            )
        ],
        id="used_where_no_ancestor_sets_it",
    ),
    pytest.param(
        [
            (
                "a",
                'extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key", "@context", "@fromContext", "@shareable"])\ntype Query { t: T! }\ntype T @key(fields: "id") @context(name: "ctx") { id: ID! u: U! prop: String! }\ntype U @key(fields: "id") { id: ID! field(a: String @fromContext(field: "$ctx { prop }")): Int! }',
            ),
            (
                "b",
                'extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key", "@context", "@fromContext", "@shareable"])\ntype Query { u: U }\ntype U @key(fields: "id") { id: ID! b: String! }',
            ),
        ],
        [
            (
                "SATISFIABILITY_ERROR",
                'The following supergraph API query:\n{\n  u {\n    field\n  }\n}\ncannot be satisfied by the subgraphs because:\n- from subgraph "b": cannot find field "U.field".\n- from subgraph "a": could not find a match for required context for field "U.field".',
            )
        ],
        id="reached_from_another_subgraph",
    ),
    pytest.param(
        [
            (
                "a",
                'extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key", "@context", "@fromContext", "@shareable"])\ntype Query { items: [Item!]! }\nunion Item = P | Q\ntype P @key(fields: "id") @context(name: "c") { id: ID! v: String u: U }\ntype Q @key(fields: "id") { id: ID! u: U }\ntype U @key(fields: "id") { id: ID! f(a: String @fromContext(field: "$c { v }")): Int }',
            )
        ],
        [
            (
                "SATISFIABILITY_ERROR",
                'The following supergraph API query:\n{\n  items {\n    ... on Q {\n      u {\n        f\n      }\n    }\n  }\n}\ncannot be satisfied by the subgraphs because:\n- from subgraph "a": could not find a match for required context for field "U.f".',
            )
        ],
        id="union_member_without_context",
    ),
    pytest.param(
        [
            (
                "a",
                'extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key", "@context", "@fromContext", "@shareable"])\ntype Query { courses: [Course!]! lesson: Lesson }\ntype Course @key(fields: "id") @context(name: "c") { id: ID! loc: String modules: [Module!]! }\ntype Module @key(fields: "id") { id: ID! lessons: [Lesson!]! }\ntype Lesson @key(fields: "id") { id: ID! h(l: String @fromContext(field: "$c { loc }")): String }',
            )
        ],
        [
            (
                "SATISFIABILITY_ERROR",
                'The following supergraph API query:\n{\n  lesson {\n    h\n  }\n}\ncannot be satisfied by the subgraphs because:\n- from subgraph "a": could not find a match for required context for field "Lesson.h".',
            )
        ],
        id="two_levels_below_reached_directly",
    ),
]


@pytest.mark.parametrize(("subgraphs", "expected"), UNREACHABLE)
def test_a_field_reached_where_no_object_above_sets_its_context_is_unsatisfiable(
    subgraphs: list[tuple[str, str]], expected: list[tuple[str, str]]
) -> None:
    errors = compose_errors(*subgraphs)
    assert [(e.code, e.message) for e in errors] == expected


def test_a_context_set_on_a_union_reaches_every_member() -> None:
    compose_ok(
        [
            SubgraphInput(
                "a",
                "http://a.example/graphql",
                'extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key", "@context", "@fromContext", "@shareable"])\ntype Query { items: [Item!]! }\nunion Item @context(name: "c") = P | Q\ntype P @key(fields: "id") { id: ID! v: String u: U }\ntype Q @key(fields: "id") { id: ID! v: String u: U }\ntype U @key(fields: "id") { id: ID! f(a: String @fromContext(field: "$c ... on P { v } ... on Q { v }")): Int }',
            )
        ]
    )


MORE = [
    pytest.param(
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key", "@context", "@fromContext", "@interfaceObject"])\ntype Query { t: T! }\ntype T @key(fields: "id") @context(name: "my_ctx") @context(name: "9x") { id: ID! u: U! prop: String! }\ntype U @key(fields: "id") { id: ID! f(a: String @fromContext(field: "$my_ctx { prop }")): Int }',
        [
            ("CONTEXT_NAME_INVALID", '[a] Context name "my_ctx" may not contain an underscore.'),
            (
                "CONTEXT_NAME_INVALID",
                '[a] Context name "9x" is invalid. It should have only alphanumeric characters.',
            ),
        ],
        id="context_name_invalid",
    ),
    pytest.param(
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key", "@context", "@fromContext", "@interfaceObject"])\ntype Query { t: T! }\ntype T @key(fields: "id") @interfaceObject @context(name: "ctx") { id: ID! u: U! prop: String! }\ntype U @key(fields: "id") { id: ID! f(a: String @fromContext(field: "$ctx { prop }")): Int }',
        [
            (
                "CONTEXT_INVALID_SELECTION",
                '[a] Context "is used in "U.f(a:)" but the selection is invalid: One of the types in the selection is an interfaceObject: "T"',
            )
        ],
        id="interface_object_in_selection",
    ),
]


@pytest.mark.parametrize(("sdl", "expected"), MORE)
def test_context_names_and_interface_objects_are_refused_like_apollo(
    sdl: str, expected: list[tuple[str, str]]
) -> None:
    assert [(e.code, e.message) for e in compose_errors(("a", sdl))] == expected
