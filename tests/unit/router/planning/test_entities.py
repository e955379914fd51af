"""Entity jumps through @key, one `_entities` fetch per path."""

import pytest

from router.supergraph import Supergraph, load_supergraph
from tests.unit.router.planning.helpers import plan_text, snapshot
from tests.unit.router.supergraphs import local_graphs, supergraph

TYPES = """
type Product
  @join__type(graph: PRODUCTS, key: "id")
  @join__type(graph: REVIEWS, key: "id")
{
  id: ID!
  name: String @join__field(graph: PRODUCTS)
  reviews: [Review] @join__field(graph: REVIEWS)
}

type Query
  @join__type(graph: PRODUCTS)
  @join__type(graph: REVIEWS)
  @join__type(graph: USERS)
{
  products: [Product] @join__field(graph: PRODUCTS)
}

type Review
  @join__type(graph: REVIEWS)
{
  body: String
  author: User
}

type User
  @join__type(graph: REVIEWS, key: "id", resolvable: false)
  @join__type(graph: USERS, key: "id")
{
  id: ID!
  name: String @join__field(graph: USERS)
}
"""


@pytest.fixture(scope="module")
def schema() -> Supergraph:
    return load_supergraph(supergraph(local_graphs("products", "reviews", "users"), TYPES))


def test_root_fields_from_one_subgraph(schema: Supergraph) -> None:
    assert plan_text(schema, "{ products { id name } }") == snapshot(
        """
        QueryPlan {
          Fetch(service: "products") {
            {
              products {
                id
                name
              }
            }
          },
        }
        """
    )


def test_chain_of_entity_jumps(schema: Supergraph) -> None:
    assert plan_text(schema, "{ products { name reviews { body author { name } } } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              {
                products {
                  name
                  __typename
                  id
                }
              }
            },
            Flatten(path: "products.@") {
              Fetch(service: "reviews") {
                {
                  ... on Product { __typename id }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Product {
                      reviews {
                        body
                        author {
                          __typename
                          id
                        }
                      }
                    }
                  }
                }
              },
            },
            Flatten(path: "products.@.reviews.@.author") {
              Fetch(service: "users") {
                {
                  ... on User { __typename id }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on User {
                      name
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_aliases_and_variables_reach_the_subgraph_and_conditions_the_fetch(
    schema: Supergraph,
) -> None:
    assert plan_text(
        schema,
        "query($n: Boolean!) { items: products { title: name reviews @include(if: $n) { body } } }",
    ) == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              {
                items: products {
                  title: name
                  __typename
                  id
                }
              }
            },
            Include(if: $n) {
              Flatten(path: "items.@") {
                Fetch(service: "reviews") {
                  {
                    ... on Product { __typename id }
                  } =>
                  query ($representations: [_Any!]!, $n: Boolean!) {
                    _entities(representations: $representations) {
                      ... on Product {
                        reviews @include(if: $n) {
                          body
                        }
                      }
                    }
                  }
                },
              },
            },
          },
        }
        """
    )
