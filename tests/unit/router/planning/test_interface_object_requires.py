"""@requires on a concrete type reached through an @interfaceObject: the inputs are planned
on the concrete type once the interface's subgraph has told it, not on the interface object."""

import pytest

from router.composition import SubgraphInput, compose
from router.supergraph import Supergraph, load_supergraph
from tests.unit.router.planning.helpers import plan_text, snapshot

HEADER = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3",'
    ' import: ["@key", "@interfaceObject", "@external", "@requires"])\n'
)
SDLS = {
    "catalog": HEADER + "type Query { media: [Media!]! }"
    ' interface Media @key(fields: "id") { id: ID! title: String }'
    ' type Book implements Media @key(fields: "id") { id: ID! title: String'
    ' price: Float @external label: String @requires(fields: "price") }'
    ' type Movie implements Media @key(fields: "id") { id: ID! title: String }',
    "ratings": HEADER + "type Query { topRated: [Media] }"
    ' type Media @key(fields: "id") @interfaceObject { id: ID! score: Float }',
    "shop": HEADER + 'type Book @key(fields: "id") { id: ID! price: Float }',
}


@pytest.fixture(scope="module")
def schema() -> Supergraph:
    result = compose(
        [SubgraphInput(n, f"http://{n}.local/graphql", sdl) for n, sdl in SDLS.items()]
    )
    assert result.supergraph_sdl is not None, result.errors
    return load_supergraph(result.supergraph_sdl)


def test_requires_inputs_are_planned_on_the_concrete_type(schema: Supergraph) -> None:
    assert plan_text(schema, "{ topRated { ... on Book { label } } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "ratings") {
              {
                topRated {
                  __typename
                  id
                }
              }
            },
            Flatten(path: "topRated.@") {
              Fetch(service: "catalog") {
                {
                  ... on Media { __typename id } (for Book|Movie)
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Media {
                      __typename
                      ... on Book {
                        id
                      }
                    }
                  }
                }
              },
            },
            Flatten(path: "topRated.@") {
              Fetch(service: "shop") {
                {
                  ... on Book { __typename id }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Book {
                      price
                    }
                  }
                }
              },
            },
            Flatten(path: "topRated.@") {
              Fetch(service: "catalog") {
                {
                  ... on Book { __typename id price }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Book {
                      label
                    }
                  }
                }
              },
            },
          },
        }
        """
    )
