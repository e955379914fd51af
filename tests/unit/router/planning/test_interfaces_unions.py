"""Interfaces and unions: type conditions across subgraphs."""

import pytest

from router.supergraph import Supergraph, load_supergraph
from tests.unit.router.planning.helpers import plan_text, snapshot
from tests.unit.router.supergraphs import local_graphs, supergraph

TYPES = """
type Book implements Media
  @join__implements(graph: MEDIA, interface: "Media")
  @join__type(graph: DETAILS, key: "id")
  @join__type(graph: MEDIA, key: "id")
{
  id: ID!
  pages: Int @join__field(graph: DETAILS)
  title: String @join__field(graph: MEDIA)
}

interface Media
  @join__type(graph: MEDIA)
{
  id: ID!
  title: String
}

type Movie implements Media
  @join__implements(graph: MEDIA, interface: "Media")
  @join__type(graph: DETAILS, key: "id")
  @join__type(graph: MEDIA, key: "id")
{
  id: ID!
  minutes: Int @join__field(graph: DETAILS)
  title: String @join__field(graph: MEDIA)
}

type Query
  @join__type(graph: DETAILS)
  @join__type(graph: MEDIA)
{
  media: [Media] @join__field(graph: MEDIA)
  search: [Result] @join__field(graph: MEDIA)
}

union Result
  @join__type(graph: MEDIA)
  @join__unionMember(graph: MEDIA, member: "Book")
  @join__unionMember(graph: MEDIA, member: "Movie")
 = Book | Movie
"""


@pytest.fixture(scope="module")
def schema() -> Supergraph:
    return load_supergraph(supergraph(local_graphs("details", "media"), TYPES))


def test_interface_fields_resolved_everywhere_stay_on_the_interface(schema: Supergraph) -> None:
    assert plan_text(schema, "{ media { id title } }") == snapshot(
        """
        QueryPlan {
          Fetch(service: "media") {
            {
              media {
                __typename
                id
                title
              }
            }
          },
        }
        """
    )


def test_fragments_jump_per_concrete_type(schema: Supergraph) -> None:
    assert plan_text(
        schema, "{ media { title ... on Book { pages } ... on Movie { minutes } } }"
    ) == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "media") {
              {
                media {
                  __typename
                  title
                  ... on Book {
                    id
                  }
                  ... on Movie {
                    id
                  }
                }
              }
            },
            Flatten(path: "media.@") {
              Fetch(service: "details") {
                {
                  ... on Book { __typename id }
                  ... on Movie { __typename id }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Book {
                      pages
                    }
                    ... on Movie {
                      minutes
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_union_members_jump_to_their_subgraph(schema: Supergraph) -> None:
    assert plan_text(schema, "{ search { __typename ... on Book { pages } } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "media") {
              {
                search {
                  __typename
                  ... on Book {
                    id
                  }
                }
              }
            },
            Flatten(path: "search.@") {
              Fetch(service: "details") {
                {
                  ... on Book { __typename id }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Book {
                      pages
                    }
                  }
                }
              },
            },
          },
        }
        """
    )
