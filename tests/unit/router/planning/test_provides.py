"""@provides lets a fetch stay in one subgraph."""

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
  name: String @join__field(graph: PRODUCTS) @join__field(graph: REVIEWS, external: true)
  price: Int @join__field(graph: PRODUCTS)
}

type Query
  @join__type(graph: PRODUCTS)
  @join__type(graph: REVIEWS)
{
  product(id: ID!): Product @join__field(graph: PRODUCTS)
  topReviews: [Review] @join__field(graph: REVIEWS)
}

type Review
  @join__type(graph: REVIEWS)
{
  body: String
  product: Product @join__field(graph: REVIEWS, provides: "name")
}
"""


@pytest.fixture(scope="module")
def schema() -> Supergraph:
    return load_supergraph(supergraph(local_graphs("products", "reviews"), TYPES))


def test_provided_field_stays_in_the_providing_subgraph(schema: Supergraph) -> None:
    assert plan_text(schema, "{ topReviews { body product { name } } }") == snapshot(
        """
        QueryPlan {
          Fetch(service: "reviews") {
            {
              topReviews {
                body
                product {
                  name
                }
              }
            }
          },
        }
        """
    )


def test_field_outside_provides_needs_the_owner(schema: Supergraph) -> None:
    assert plan_text(schema, "{ topReviews { product { name price } } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "reviews") {
              {
                topReviews {
                  product {
                    name
                    __typename
                    id
                  }
                }
              }
            },
            Flatten(path: "topReviews.@.product") {
              Fetch(service: "products") {
                {
                  ... on Product { __typename id }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Product {
                      price
                    }
                  }
                }
              },
            },
          },
        }
        """
    )
