"""@interfaceObject: the interface's subgraph is asked for the concrete type only when the
selection needs it (`__typename`, fragments on other types, fields it alone resolves)."""

import pytest

from router.composition import SubgraphInput, compose
from router.supergraph import Supergraph, load_supergraph
from tests.unit.router.planning.helpers import plan_text, snapshot

HEADER = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3",'
    ' import: ["@key", "@interfaceObject"])\n'
)
SDLS = {
    "catalog": HEADER + "type Query { media: [Media!]! }"
    ' interface Media @key(fields: "id") { id: ID! title: String }'
    ' type Book implements Media @key(fields: "id") { id: ID! title: String pages: Int }'
    ' type Movie implements Media @key(fields: "id") { id: ID! title: String }',
    "ratings": HEADER + "type Query { topRated: [Media] }"
    ' type Media @key(fields: "id") @interfaceObject'
    " { id: ID! score: Float similar: [Media!] }",
}

ONLY_RATINGS = snapshot(
    """
    QueryPlan {
      Fetch(service: "ratings") {
        {
          topRated {
            score
          }
        }
      },
    }
    """
)


@pytest.fixture(scope="module")
def schema() -> Supergraph:
    result = compose(
        [SubgraphInput(n, f"http://{n}.local/graphql", sdl) for n, sdl in SDLS.items()]
    )
    assert result.supergraph_sdl is not None
    return load_supergraph(result.supergraph_sdl)


@pytest.mark.parametrize(
    "query",
    [
        "{ topRated { score } }",
        "{ topRated { ... on Media { score } } }",
        "{ topRated { score __typename @skip(if: true) ... on Book @include(if: false) { pages } } }",
    ],
)
def test_fields_of_the_interface_object_need_no_type_fetch(schema: Supergraph, query: str) -> None:
    assert plan_text(schema, query) == ONLY_RATINGS


def test_nested_interface_object_needs_no_type_fetch(schema: Supergraph) -> None:
    assert plan_text(schema, "{ topRated { similar { score } } }") == snapshot(
        """
        QueryPlan {
          Fetch(service: "ratings") {
            {
              topRated {
                similar {
                  score
                }
              }
            }
          },
        }
        """
    )


def test_typename_fetches_the_concrete_type(schema: Supergraph) -> None:
    assert plan_text(schema, "{ topRated { __typename score } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "ratings") {
              {
                topRated {
                  score
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
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_conditional_typename_fetches_the_type_under_its_condition(schema: Supergraph) -> None:
    query = "query($t: Boolean!) { topRated { __typename @include(if: $t) score } }"
    assert plan_text(schema, query) == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "ratings") {
              {
                topRated {
                  score
                  __typename
                  id
                }
              }
            },
            Include(if: $t) {
              Flatten(path: "topRated.@") {
                Fetch(service: "catalog") {
                  {
                    ... on Media { __typename id } (for Book|Movie)
                  } =>
                  query ($representations: [_Any!]!) {
                    _entities(representations: $representations) {
                      ... on Media {
                        __typename
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


def test_fragment_on_a_concrete_type_fetches_it(schema: Supergraph) -> None:
    assert plan_text(schema, "{ topRated { score ... on Book { pages } } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "ratings") {
              {
                topRated {
                  score
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
                        pages
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


def test_field_only_the_interface_resolves_learns_the_type_too(schema: Supergraph) -> None:
    assert plan_text(schema, "{ topRated { title score } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "ratings") {
              {
                topRated {
                  __typename
                  id
                  score
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
                      title
                      __typename
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_fragment_adding_to_a_field_of_the_interface_object_plans_the_addition(
    schema: Supergraph,
) -> None:
    """`similar` is fetched for every Media at once; what `... on Movie` adds to it is
    fetched for Movies after their type is learned, never dropped."""
    query = "{ topRated { ... on Movie { similar { score } } similar { id } } }"
    assert plan_text(schema, query) == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "ratings") {
              {
                topRated {
                  similar {
                    id
                  }
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
                      ... on Movie {
                        id
                      }
                    }
                  }
                }
              },
            },
            Flatten(path: "topRated.@") {
              Fetch(service: "ratings") {
                {
                  ... on Media { __typename id } (for Movie)
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Media {
                      similar {
                        score
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
