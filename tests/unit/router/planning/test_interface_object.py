"""@interfaceObject: the interface's name is the representation typename."""

import pytest

from router.supergraph import Supergraph, load_supergraph
from tests.unit.router.planning.helpers import plan_text, snapshot
from tests.unit.router.supergraphs import local_graphs, supergraph

TYPES = """
interface Account
  @join__type(graph: ACCOUNTS, key: "id")
  @join__type(graph: PROFILES, key: "id", isInterfaceObject: true)
{
  id: ID!
  nickname: String @join__field(graph: PROFILES)
}

type Admin implements Account
  @join__implements(graph: ACCOUNTS, interface: "Account")
  @join__type(graph: ACCOUNTS, key: "id")
{
  id: ID!
  level: Int
  nickname: String @join__field
}

type Member implements Account
  @join__implements(graph: ACCOUNTS, interface: "Account")
  @join__type(graph: ACCOUNTS, key: "id")
{
  id: ID!
  nickname: String @join__field
}

type Query
  @join__type(graph: ACCOUNTS)
  @join__type(graph: PROFILES)
{
  accounts: [Account] @join__field(graph: ACCOUNTS)
}
"""


@pytest.fixture(scope="module")
def schema() -> Supergraph:
    return load_supergraph(supergraph(local_graphs("accounts", "profiles"), TYPES))


def test_interface_object_field_from_concrete_type(schema: Supergraph) -> None:
    assert plan_text(schema, "{ accounts { id nickname } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "accounts") {
              {
                accounts {
                  __typename
                  id
                }
              }
            },
            Flatten(path: "accounts.@") {
              Fetch(service: "profiles") {
                {
                  ... on Account { __typename id } (for Admin|Member)
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Account {
                      nickname
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_interface_object_with_type_condition(schema: Supergraph) -> None:
    assert plan_text(schema, "{ accounts { ... on Admin { level nickname } } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "accounts") {
              {
                accounts {
                  __typename
                  ... on Admin {
                    level
                    id
                  }
                }
              }
            },
            Flatten(path: "accounts.@") {
              Fetch(service: "profiles") {
                {
                  ... on Account { __typename id } (for Admin)
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Account {
                      nickname
                    }
                  }
                }
              },
            },
          },
        }
        """
    )
