"""@interfaceObject: one response name with other arguments per concrete type is fetched
under a scoped alias, given back to its types only."""

import pytest

from router.composition import SubgraphInput, compose
from router.supergraph import Supergraph, load_supergraph
from tests.unit.router.planning.helpers import plan_text, snapshot

HEADER = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3",'
    ' import: ["@key", "@interfaceObject"])\n'
)
SDLS = {
    "accounts": HEADER + "type Query { accounts: [Account!]! }"
    ' interface Account @key(fields: "id") { id: ID! }'
    ' type Admin implements Account @key(fields: "id") { id: ID! }'
    ' type User implements Account @key(fields: "id") { id: ID! }'
    ' type Guest implements Account @key(fields: "id") { id: ID! }',
    "profiles": HEADER + 'type Account @key(fields: "id") @interfaceObject'
    " { id: ID! label(style: Int): String settings: [Settings!]! }"
    " type Settings { value(key: String!): String }",
}


@pytest.fixture(scope="module")
def schema() -> Supergraph:
    result = compose(
        [SubgraphInput(n, f"http://{n}.local/graphql", sdl) for n, sdl in SDLS.items()]
    )
    assert result.supergraph_sdl is not None
    return load_supergraph(result.supergraph_sdl)


def test_same_response_name_other_arguments_per_type(schema: Supergraph) -> None:
    query = (
        "{ accounts { ... on Admin { x: label(style: 1) } ... on User { x: label(style: 2) }"
        " ... on Guest { x: label(style: 2) } } }"
    )
    assert plan_text(schema, query) == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "accounts") {
              {
                accounts {
                  __typename
                  ... on Admin {
                    id
                  }
                  ... on Guest {
                    id
                  }
                  ... on User {
                    id
                  }
                }
              }
            },
            Flatten(path: "accounts.@") {
              Fetch(service: "profiles") {
                {
                  ... on Account { __typename id } (for Admin|Guest|User)
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Account {
                      x: label(style: 1)
                      x__fed_scoped_1: label(style: 2)
                    }
                  }
                }
                x__fed_scoped_1 => x (for Guest|User)
              },
            },
          },
        }
        """
    )


def test_same_arguments_need_no_scoped_alias(schema: Supergraph) -> None:
    query = (
        "{ accounts { ... on Admin { x: label(style: 1) } ... on User { x: label(style: 1) } } }"
    )
    assert "__fed_scoped" not in plan_text(schema, query)


def test_nested_same_response_name_other_arguments_per_type(schema: Supergraph) -> None:
    query = (
        '{ accounts { ... on Admin { settings { v: value(key: "a") } }'
        ' ... on User { settings { v: value(key: "b") } } } }'
    )
    assert plan_text(schema, query).endswith(
        snapshot(
            """
                _entities(representations: $representations) {
                  ... on Account {
                    settings {
                      v: value(key: "a")
                      v__fed_scoped_1: value(key: "b")
                    }
                  }
                }
              }
              settings.v__fed_scoped_1 => v (for User)
            },
          },
        },
      }
            """
        )
    )
