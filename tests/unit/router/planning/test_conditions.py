"""@skip/@include with variables: the fetches only conditional fields need run under
Include/Skip nodes; literal exclusions are not planned."""

import pytest

from router.supergraph import Supergraph, load_supergraph
from tests.unit.router.planning.helpers import plan_text, snapshot
from tests.unit.router.planning.test_requires import CHAIN_TYPES
from tests.unit.router.supergraphs import local_graphs, supergraph


@pytest.fixture(scope="module")
def chain() -> Supergraph:
    graphs = local_graphs("products", "inventory", "shipping")
    return load_supergraph(supergraph(graphs, CHAIN_TYPES))


def test_fetches_needed_only_by_conditional_fields_are_conditional(chain: Supergraph) -> None:
    query = """query($v: Boolean!, $w: Boolean!) {
      products { id name @include(if: $v) ... @skip(if: $w) { shippingCost } }
    }"""
    assert plan_text(chain, query) == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              {
                products {
                  id
                  __typename
                }
              }
            },
            Parallel {
              Include(if: $v) {
                Flatten(path: "products.@") {
                  Fetch(service: "shipping") {
                    {
                      ... on Product { __typename id }
                    } =>
                    query ($representations: [_Any!]!, $v: Boolean!) {
                      _entities(representations: $representations) {
                        ... on Product {
                          name @include(if: $v)
                        }
                      }
                    }
                  },
                },
              },
              Sequence {
                Skip(if: $w) {
                  Flatten(path: "products.@") {
                    Fetch(service: "inventory") {
                      {
                        ... on Product { __typename id }
                      } =>
                      query ($representations: [_Any!]!) {
                        _entities(representations: $representations) {
                          ... on Product {
                            weight
                          }
                        }
                      }
                    },
                  },
                },
                Skip(if: $w) {
                  Flatten(path: "products.@") {
                    Fetch(service: "shipping") {
                      {
                        ... on Product { __typename id weight }
                      } =>
                      query ($representations: [_Any!]!, $w: Boolean!) {
                        _entities(representations: $representations) {
                          ... on Product {
                            shippingCost @skip(if: $w)
                          }
                        }
                      }
                    },
                  },
                },
              },
            },
          },
        }
        """
    )


def test_literal_exclusions_are_not_planned(chain: Supergraph) -> None:
    query = "{ products { id name @include(if: false) ... @skip(if: true) { shippingCost } } }"
    assert plan_text(chain, query) == snapshot(
        """
        QueryPlan {
          Fetch(service: "products") {
            {
              products {
                id
              }
            }
          },
        }
        """
    )
