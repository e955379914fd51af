"""@override: the overriding subgraph resolves the field."""

import pytest

from router.supergraph import Supergraph, load_supergraph
from tests.unit.router.planning.helpers import plan_text, snapshot
from tests.unit.router.supergraphs import local_graphs, supergraph

TYPES = """
type Query
  @join__type(graph: NEW)
  @join__type(graph: OLD)
{
  user: User @join__field(graph: OLD)
}

type User
  @join__type(graph: NEW, key: "id")
  @join__type(graph: OLD, key: "id")
{
  id: ID!
  email: String @join__field(graph: NEW, override: "old")
  name: String @join__field(graph: OLD)
}
"""


@pytest.fixture(scope="module")
def schema() -> Supergraph:
    return load_supergraph(supergraph(local_graphs("new", "old"), TYPES))


def test_overridden_field_comes_from_new_subgraph(schema: Supergraph) -> None:
    assert plan_text(schema, "{ user { name email } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "old") {
              {
                user {
                  name
                  __typename
                  id
                }
              }
            },
            Flatten(path: "user") {
              Fetch(service: "new") {
                {
                  ... on User { __typename id }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on User {
                      email
                    }
                  }
                }
              },
            },
          },
        }
        """
    )
