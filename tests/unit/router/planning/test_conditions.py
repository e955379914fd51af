"""@skip/@include with variables: the fetches only conditional fields need run under
Include/Skip nodes; literal exclusions are not planned."""

import pytest

from router.supergraph import Supergraph, load_supergraph
from tests.unit.router.planning.helpers import plan_text, snapshot
from tests.unit.router.planning.test_requires import CHAIN_TYPES
from tests.unit.router.supergraphs import local_graphs, supergraph


@pytest.fixture(scope="module")
def chain() -> Supergraph:
    graphs = local_graphs("products", "inventory", "shipping")
    return load_supergraph(supergraph(graphs, CHAIN_TYPES))


def test_fetches_needed_only_by_conditional_fields_are_conditional(chain: Supergraph) -> None:
    query = """query($v: Boolean!, $w: Boolean!) {
      products { id name @include(if: $v) ... @skip(if: $w) { shippingCost } }
    }"""
    assert plan_text(chain, query) == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              {
                products {
                  id
                  __typename
                }
              }
            },
            Parallel {
              Include(if: $v) {
                Flatten(path: "products.@") {
                  Fetch(service: "shipping") {
                    {
                      ... on Product { __typename id }
                    } =>
                    query ($representations: [_Any!]!, $v: Boolean!) {
                      _entities(representations: $representations) {
                        ... on Product {
                          name @include(if: $v)
                        }
                      }
                    }
                  },
                },
              },
              Sequence {
                Skip(if: $w) {
                  Flatten(path: "products.@") {
                    Fetch(service: "inventory") {
                      {
                        ... on Product { __typename id }
                      } =>
                      query ($representations: [_Any!]!) {
                        _entities(representations: $representations) {
                          ... on Product {
                            weight
                          }
                        }
                      }
                    },
                  },
                },
                Skip(if: $w) {
                  Flatten(path: "products.@") {
                    Fetch(service: "shipping") {
                      {
                        ... on Product { __typename id weight }
                      } =>
                      query ($representations: [_Any!]!, $w: Boolean!) {
                        _entities(representations: $representations) {
                          ... on Product {
                            shippingCost @skip(if: $w)
                          }
                        }
                      }
                    },
                  },
                },
              },
            },
          },
        }
        """
    )


def test_literal_exclusions_are_not_planned(chain: Supergraph) -> None:
    query = "{ products { id name @include(if: false) ... @skip(if: true) { shippingCost } } }"
    assert plan_text(chain, query) == snapshot(
        """
        QueryPlan {
          Fetch(service: "products") {
            {
              products {
                id
              }
            }
          },
        }
        """
    )


REVIEW_TYPES = """
type Product
  @join__type(graph: PRODUCTS, key: "id")
  @join__type(graph: REVIEWS, key: "id")
{
  id: ID!
  name: String! @join__field(graph: PRODUCTS)
  reviews: [Review!]! @join__field(graph: REVIEWS)
}

type Query
  @join__type(graph: PRODUCTS)
  @join__type(graph: REVIEWS)
{
  products: [Product!]! @join__field(graph: PRODUCTS)
}

type Review
  @join__type(graph: REVIEWS)
{
  id: ID!
  body: String!
}
"""


def test_a_conditional_selection_in_an_unconditional_fetch_carries_its_condition() -> None:
    """The reviews fetch serves the unconditional `products { reviews { id } }` too, so it
    is not under Include: `body` takes its `$v` condition into the subgraph operation."""
    reviews = load_supergraph(supergraph(local_graphs("products", "reviews"), REVIEW_TYPES))
    query = """query($v: Boolean!) {
      products @include(if: $v) { reviews { id body } } products { reviews { id } }
    }"""
    assert plan_text(reviews, query) == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              query ($v: Boolean!) {
                products @include(if: $v) {
                  __typename
                  id
                }
                products {
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
                query ($representations: [_Any!]!, $v: Boolean!) {
                  _entities(representations: $representations) {
                    ... on Product {
                      reviews {
                        id
                        body @include(if: $v)
                      }
                    }
                  }
                }
              },
            },
          },
        }
        """
    )
