"""@shareable: prefer the subgraph already being queried."""

import pytest

from router.supergraph import Supergraph, load_supergraph
from tests.unit.router.planning.helpers import plan_text, snapshot
from tests.unit.router.supergraphs import local_graphs, supergraph

TYPES = """
type Query
  @join__type(graph: A)
  @join__type(graph: B)
{
  user: User
}

type User
  @join__type(graph: A, key: "id")
  @join__type(graph: B, key: "id")
{
  id: ID!
  name: String
  age: Int @join__field(graph: A)
  email: String @join__field(graph: B)
}
"""


@pytest.fixture(scope="module")
def schema() -> Supergraph:
    return load_supergraph(supergraph(local_graphs("a", "b"), TYPES))


def test_shareable_field_taken_from_current_subgraph(schema: Supergraph) -> None:
    assert plan_text(schema, "{ user { name age } }") == snapshot(
        """
        QueryPlan {
          Fetch(service: "a") {
            {
              user {
                name
                age
              }
            }
          },
        }
        """
    )


def test_shareable_root_chooses_subgraph_with_most_fields(schema: Supergraph) -> None:
    assert plan_text(schema, "{ user { name email } }") == snapshot(
        """
        QueryPlan {
          Fetch(service: "b") {
            {
              user {
                name
                email
              }
            }
          },
        }
        """
    )


def test_shareable_field_not_refetched_after_jump(schema: Supergraph) -> None:
    assert plan_text(schema, "{ user { age email name } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "a") {
              {
                user {
                  age
                  __typename
                  id
                  name
                }
              }
            },
            Flatten(path: "user") {
              Fetch(service: "b") {
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


PARTIAL_UNION_TYPES = """
union Action
  @join__type(graph: A)
  @join__type(graph: B)
  @join__unionMember(graph: A, member: "Common")
  @join__unionMember(graph: B, member: "Common")
  @join__unionMember(graph: A, member: "OnlyA")
  @join__unionMember(graph: B, member: "OnlyB")
 = Common | OnlyA | OnlyB

type Common
  @join__type(graph: A)
  @join__type(graph: B)
{
  label: String
}

type Container
  @join__type(graph: A, key: "id")
  @join__type(graph: B, key: "id")
{
  id: ID!
  wrapper: Wrapper
}

type OnlyA
  @join__type(graph: A)
{
  a: String
}

type OnlyB
  @join__type(graph: B)
{
  b: String
}

type Query
  @join__type(graph: A)
  @join__type(graph: B)
{
  rootA: Container @join__field(graph: A)
}

type Wrapper
  @join__type(graph: A)
  @join__type(graph: B)
{
  actions: [Action!]!
}
"""


def test_shareable_union_field_keeps_only_members_every_source_returns() -> None:
    """`wrapper.actions` could come from a or b (Container is an entity in both), so only the
    union members both subgraphs know can be in the answer: `OnlyA` is never fetched."""
    schema = load_supergraph(supergraph(local_graphs("a", "b"), PARTIAL_UNION_TYPES))
    query = (
        "{ rootA { wrapper { actions { __typename ...on Common { label } ...on OnlyA { a } } } } }"
    )
    assert plan_text(schema, query) == snapshot(
        """
        QueryPlan {
          Fetch(service: "a") {
            {
              rootA {
                wrapper {
                  actions {
                    __typename
                    ... on Common {
                      label
                    }
                  }
                }
              }
            }
          },
        }
        """
    )
