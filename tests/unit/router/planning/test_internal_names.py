"""Keys and @requires inputs the planner adds are aliased away from the client's names."""

import pytest

from router.composition import SubgraphInput, compose
from router.supergraph import Supergraph, load_supergraph
from tests.unit.router.planning.helpers import plan_text, snapshot

HEADER = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3",'
    ' import: ["@key", "@external", "@requires"])\n'
)
SDLS = {
    "products": HEADER + "type Query { product: Product }"
    ' type Product @key(fields: "id") { id: ID! name: String weight: Float }',
    "shipping": HEADER + 'type Product @key(fields: "id") { id: ID! weight: Float @external'
    ' cost: Float @requires(fields: "weight") }',
}


@pytest.fixture(scope="module")
def schema() -> Supergraph:
    result = compose(
        [SubgraphInput(n, f"http://{n}.local/graphql", sdl) for n, sdl in SDLS.items()]
    )
    assert result.supergraph_sdl is not None
    return load_supergraph(result.supergraph_sdl)


def test_key_and_required_field_named_by_client_aliases(schema: Supergraph) -> None:
    query = "{ product { cost id: name weight: name __fed_input_id: name } }"
    assert plan_text(schema, query) == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              {
                product {
                  __typename
                  __fed_input_id_1: id
                  __fed_input_weight: weight
                  id: name
                  weight: name
                  __fed_input_id: name
                }
              }
            },
            Flatten(path: "product") {
              Fetch(service: "shipping") {
                {
                  ... on Product { __typename __fed_input_id_1: id __fed_input_weight: weight }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Product {
                      cost
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_client_asking_the_key_itself_shares_it(schema: Supergraph) -> None:
    assert plan_text(schema, "{ product { id weight cost } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              {
                product {
                  id
                  weight
                  __typename
                }
              }
            },
            Flatten(path: "product") {
              Fetch(service: "shipping") {
                {
                  ... on Product { __typename id weight }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Product {
                      cost
                    }
                  }
                }
              },
            },
          },
        }
        """
    )
