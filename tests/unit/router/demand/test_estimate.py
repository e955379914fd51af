"""The estimated and actual cost of operations over a small supergraph composed from a
subgraph that uses `@cost` and `@listSize`, rule by rule (Apollo Router's static_estimated)."""

from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse

from router.composition import SubgraphInput, compose
from router.gateway.demand_actual import ActualCost
from router.gateway.demand_estimate import CostError, compile_cost
from router.supergraph import Supergraph, load_supergraph

LIST_SIZE = 10
SUBGRAPH = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9",
                    import: ["@key", "@cost", "@listSize"])
type Query {
  books(first: Int, last: Int): [Book!]!
    @listSize(slicingArguments: ["first", "last"], requireOneSlicingArgument: false)
  shelf: [Book!]! @listSize(assumedSize: 5)
  everything: [Book!]!
  search(text: String! @cost(weight: 7)): [Result!]! @listSize(assumedSize: 3) @cost(weight: 20)
  bookConnection(first: Int = 6): BookConnection!
    @listSize(slicingArguments: ["first"], sizedFields: ["edges"])
  strict(first: Int, last: Int): [Book!]! @listSize(slicingArguments: ["first", "last"])
  strictConnection(first: Int): BookConnection!
    @listSize(slicingArguments: ["first"], sizedFields: ["edges"])
  node: Node
  filter(where: Filter): [Book!]! @listSize(assumedSize: 2)
}
type Mutation { addBook(title: String!): Book! ping: Boolean }
interface Node { id: ID! }
type Book implements Node @key(fields: "id") {
  id: ID!
  title: String!
  authors: [Author!]! @listSize(assumedSize: 2)
  price: Int @cost(weight: 4)
}
type Author @cost(weight: 3) { name: String }
union Result = Book | Author
type BookConnection { edges: [BookEdge!]! totalCount: Int }
type BookEdge { node: Book! }
input Filter { title: String @cost(weight: 2) nested: Filter }
"""


@pytest.fixture(scope="module")
def supergraph() -> Supergraph:
    result = compose([SubgraphInput("books", "http://books.example/graphql", SUBGRAPH)])
    assert result.supergraph_sdl is not None, result.errors
    return load_supergraph(result.supergraph_sdl)


def estimate(supergraph: Supergraph, query: str, variables: dict[str, Any] | None = None) -> float:
    document = parse(query)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    formula = compile_cost(supergraph.api_schema, supergraph.costs, LIST_SIZE, document, operation)
    return formula.estimate(variables)


def actual(supergraph: Supergraph, query: str, data: dict[str, Any]) -> float:
    document = parse(query)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return ActualCost(supergraph.api_schema, supergraph.costs, document, operation).measure(
        data, {}
    )


def test_the_supergraph_carries_the_directives(supergraph: Supergraph) -> None:
    costs = supergraph.costs
    assert costs.types == {"Author": 3.0}
    assert costs.fields[("Query", "search")] == 20.0
    assert costs.fields[("Filter", "title")] == 2.0
    assert costs.arguments == {("Query", "search", "text"): 7.0}
    assert costs.list_sizes[("Query", "bookConnection")].sized_fields == ("edges",)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ books(first: 3) { title } }", 3),  # objects 1, scalars 0, times the slice
        ("{ books(first: 3, last: 5) { id } }", 5),  # the largest slicing argument
        ("{ books(first: 3) { authors { name } } }", 3 * (1 + 2 * 3)),  # nested, type @cost
        ("{ shelf { id } }", 5),  # assumedSize
        ("{ everything { id } }", LIST_SIZE),  # no @listSize: the configured list size
        ("{ books { id } }", LIST_SIZE),  # no slicing argument given, no assumed size
        ("{ bookConnection(first: 4) { totalCount edges { node { title } } } }", 1 + 4 * 2),
        ("{ bookConnection { edges { node { id } } } }", 1 + 6 * 2),  # the argument's default
        ('{ search(text: "x") { __typename } }', 3 * 20 + 7),  # @cost on field and argument
        (
            "{ node { ... on Book { price } ... on Book { title } ...F } } fragment F on Node { id }",
            1 + 4,
        ),
        (
            '{ search(text: "x") { ... on Book { price } ... on Author { name } } }',
            3 * (20 + 4) + 7,
        ),  # fragments on the members of an abstract type add up
        ('mutation { addBook(title: "a") { id } ping }', (10 + 1) + (10 + 0)),
        ('{ filter(where: {title: "a", nested: {title: "b"}}) { id } }', 2 + (1 + 2 + 1 + 2)),
        ("{ books(first: 2) @skip(if: true) { id } shelf @include(if: false) { id } }", 0),
        ("{ books(first: 2) @skip(if: false) { id } }", 2),
        ("{ books(first: -5) { authors { name } } }", 0),  # a negative slice counts nothing
        ("{ __typename }", 0),
    ],
)
def test_estimate(supergraph: Supergraph, query: str, expected: float) -> None:
    assert estimate(supergraph, query) == expected


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"n": 4}, 4 * 7),
        ({"n": 4.0}, 4 * 7),  # GraphQL's Int takes a whole float: so does the estimate
        ({"n": 1_000_000_000}, 1_000_000_000 * 7),
        ({"n": -3}, 0),
        ({}, LIST_SIZE * 7),
        ({"n": None}, LIST_SIZE * 7),
        ({"n": "4"}, LIST_SIZE * 7),  # the wrong type: refused by variable validation later
        ({"n": True}, LIST_SIZE * 7),
    ],
)
def test_slicing_argument_from_a_variable(
    supergraph: Supergraph, variables: dict[str, Any], expected: float
) -> None:
    query = "query Q($n: Int) { books(first: $n) { authors { name } } }"
    assert estimate(supergraph, query, variables) == expected


def test_variable_default_and_conditions(supergraph: Supergraph) -> None:
    query = "query Q($n: Int = 2, $s: Boolean!) { books(first: $n) @skip(if: $s) { id } }"
    assert estimate(supergraph, query, {"s": False}) == 2
    assert estimate(supergraph, query, {"s": True}) == 0
    assert estimate(supergraph, query, {"s": False, "n": 8}) == 8
    fragment = "query Q($i: Boolean!) { ... @include(if: $i) { shelf { id } } }"
    assert estimate(supergraph, fragment, {"i": True}) == 5
    assert estimate(supergraph, fragment, {"i": False}) == 0


def test_input_object_argument_from_a_variable(supergraph: Supergraph) -> None:
    query = "query Q($w: Filter) { filter(where: $w) { id } }"
    assert estimate(supergraph, query, {"w": {"title": "a", "nested": {"title": "b"}}}) == 8
    assert estimate(supergraph, query, {"w": None}) == 2
    assert estimate(supergraph, query, {"w": {"unknown": 1}}) == 3  # the object itself


@pytest.mark.parametrize(
    "query",
    [
        "{ strict { id } }",
        "{ strict(first: 2, last: 3) { id } }",
        "{ strictConnection { totalCount } }",  # not a list itself: its rule holds all the same
    ],
)
def test_require_one_slicing_argument(supergraph: Supergraph, query: str) -> None:
    with pytest.raises(CostError, match=r"Query.strict\w* takes exactly one"):
        estimate(supergraph, query)


def test_require_one_slicing_argument_satisfied(supergraph: Supergraph) -> None:
    assert estimate(supergraph, "{ strict(first: 2) { id } }") == 2
    query = "query Q($f: Int) { strict(first: $f) { id } }"
    assert estimate(supergraph, query, {"f": 3}) == 3
    with pytest.raises(CostError):
        estimate(supergraph, query, {})
    connection = "query Q($f: Int) { strictConnection(first: $f) { edges { node { id } } } }"
    assert estimate(supergraph, connection, {"f": 3}) == 1 + 3 * 2
    with pytest.raises(CostError):
        estimate(supergraph, connection, {})


def test_a_static_operation_is_folded_to_a_number(supergraph: Supergraph) -> None:
    document = parse("{ books(first: 3) { authors { name } } shelf { id } }")
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    formula = compile_cost(supergraph.api_schema, supergraph.costs, LIST_SIZE, document, operation)
    assert formula.formula == 26.0


def test_actual_counts_the_lists_returned(supergraph: Supergraph) -> None:
    query = "{ books(first: 3) { authors { name } } }"
    data = {"books": [{"authors": [{"name": "a"}]}, {"authors": []}]}
    assert actual(supergraph, query, data) == 2 * 1 + 1 * 3
    assert actual(supergraph, query, {"books": []}) == 0


def test_actual_follows_the_runtime_type(supergraph: Supergraph) -> None:
    query = '{ search(text: "x") { __typename ... on Book { price } ... on Author { name } } }'
    data = {"search": [{"__typename": "Book", "price": 1}, {"__typename": "Author", "name": "a"}]}
    assert actual(supergraph, query, data) == (20 + 4) + 20 + 7


def test_actual_of_a_mutation_and_nulls(supergraph: Supergraph) -> None:
    query = 'mutation { addBook(title: "a") { id } ping }'
    assert actual(supergraph, query, {"addBook": {"id": "1"}, "ping": None}) == 11 + 10
    assert actual(supergraph, "{ node { id } }", {"node": None}) == 0
