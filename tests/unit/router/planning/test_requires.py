"""@requires: the required fields are fetched first and sent in representations."""

import pytest

from router.supergraph import Supergraph, load_supergraph
from tests.unit.router.planning.helpers import plan_text, snapshot
from tests.unit.router.supergraphs import local_graphs, supergraph

TYPES = """
type Product
  @join__type(graph: PRODUCTS, key: "id")
  @join__type(graph: SHIPPING, key: "id")
{
  id: ID!
  weight: Int @join__field(graph: PRODUCTS) @join__field(graph: SHIPPING, external: true)
  price: Int @join__field(graph: PRODUCTS) @join__field(graph: SHIPPING, external: true)
  shippingCost: Int @join__field(graph: SHIPPING, requires: "weight price")
}

type Query
  @join__type(graph: PRODUCTS)
  @join__type(graph: SHIPPING)
{
  products: [Product] @join__field(graph: PRODUCTS)
}
"""


@pytest.fixture(scope="module")
def schema() -> Supergraph:
    return load_supergraph(supergraph(local_graphs("products", "shipping"), TYPES))


def test_required_fields_are_fetched_before_the_requiring_subgraph(schema: Supergraph) -> None:
    assert plan_text(schema, "{ products { shippingCost } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              {
                products {
                  __typename
                  id
                  weight
                  price
                }
              }
            },
            Flatten(path: "products.@") {
              Fetch(service: "shipping") {
                {
                  ... on Product { __typename id weight price }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Product {
                      shippingCost
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_requires_with_other_fields_of_the_owner(schema: Supergraph) -> None:
    assert plan_text(schema, "{ products { id price shippingCost } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              {
                products {
                  id
                  price
                  __typename
                  weight
                }
              }
            },
            Flatten(path: "products.@") {
              Fetch(service: "shipping") {
                {
                  ... on Product { __typename id weight price }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Product {
                      shippingCost
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


ARGUMENT_TYPES = r"""
type Product
  @join__type(graph: PRODUCTS, key: "id")
  @join__type(graph: SHIPPING, key: "id")
{
  id: ID!
  price(currency: String!): Int @join__field(graph: PRODUCTS) @join__field(graph: SHIPPING, external: true)
  usd: Int @join__field(graph: SHIPPING, requires: "price(currency: \"USD\")")
  eur: Int @join__field(graph: SHIPPING, requires: "price(currency: \"EUR\")")
}

type Query
  @join__type(graph: PRODUCTS)
  @join__type(graph: SHIPPING)
{
  products: [Product] @join__field(graph: PRODUCTS)
}
"""


def test_requires_with_different_arguments_use_separate_fetches() -> None:
    schema = load_supergraph(supergraph(local_graphs("products", "shipping"), ARGUMENT_TYPES))
    assert plan_text(schema, "{ products { usd eur } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              {
                products {
                  __typename
                  id
                  price__fed_requires_ecbabde380: price(currency: "USD")
                  price__fed_requires_06eb377159: price(currency: "EUR")
                }
              }
            },
            Parallel {
              Flatten(path: "products.@") {
                Fetch(service: "shipping") {
                  {
                    ... on Product { __typename id price__fed_requires_ecbabde380: price }
                  } =>
                  query ($representations: [_Any!]!) {
                    _entities(representations: $representations) {
                      ... on Product {
                        usd
                      }
                    }
                  }
                },
              },
              Flatten(path: "products.@") {
                Fetch(service: "shipping") {
                  {
                    ... on Product { __typename id price__fed_requires_06eb377159: price }
                  } =>
                  query ($representations: [_Any!]!) {
                    _entities(representations: $representations) {
                      ... on Product {
                        eur
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
