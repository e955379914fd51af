"""@requires: the required fields are fetched first and sent in representations."""

import pytest

from router.supergraph import Supergraph, load_supergraph
from tests.unit.router.planning.helpers import plan_text, snapshot
from tests.unit.router.supergraphs import local_graphs, supergraph

TYPES = """
type Product
  @join__type(graph: PRODUCTS, key: "id")
  @join__type(graph: SHIPPING, key: "id")
{
  id: ID!
  weight: Int @join__field(graph: PRODUCTS) @join__field(graph: SHIPPING, external: true)
  price: Int @join__field(graph: PRODUCTS) @join__field(graph: SHIPPING, external: true)
  shippingCost: Int @join__field(graph: SHIPPING, requires: "weight price")
}

type Query
  @join__type(graph: PRODUCTS)
  @join__type(graph: SHIPPING)
{
  products: [Product] @join__field(graph: PRODUCTS)
}
"""


@pytest.fixture(scope="module")
def schema() -> Supergraph:
    return load_supergraph(supergraph(local_graphs("products", "shipping"), TYPES))


def test_required_fields_are_fetched_before_the_requiring_subgraph(schema: Supergraph) -> None:
    assert plan_text(schema, "{ products { shippingCost } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              {
                products {
                  __typename
                  id
                  weight
                  price
                }
              }
            },
            Flatten(path: "products.@") {
              Fetch(service: "shipping") {
                {
                  ... on Product { __typename id weight price }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Product {
                      shippingCost
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_requires_with_other_fields_of_the_owner(schema: Supergraph) -> None:
    assert plan_text(schema, "{ products { id price shippingCost } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              {
                products {
                  id
                  price
                  __typename
                  weight
                }
              }
            },
            Flatten(path: "products.@") {
              Fetch(service: "shipping") {
                {
                  ... on Product { __typename id weight price }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Product {
                      shippingCost
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


ARGUMENT_TYPES = r"""
type Product
  @join__type(graph: PRODUCTS, key: "id")
  @join__type(graph: SHIPPING, key: "id")
{
  id: ID!
  price(currency: String!): Int @join__field(graph: PRODUCTS) @join__field(graph: SHIPPING, external: true)
  usd: Int @join__field(graph: SHIPPING, requires: "price(currency: \"USD\")")
  eur: Int @join__field(graph: SHIPPING, requires: "price(currency: \"EUR\")")
}

type Query
  @join__type(graph: PRODUCTS)
  @join__type(graph: SHIPPING)
{
  products: [Product] @join__field(graph: PRODUCTS)
}
"""


def test_requires_with_different_arguments_use_separate_fetches() -> None:
    schema = load_supergraph(supergraph(local_graphs("products", "shipping"), ARGUMENT_TYPES))
    assert plan_text(schema, "{ products { usd eur } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              {
                products {
                  __typename
                  id
                  price__fed_requires_ecbabde380: price(currency: "USD")
                  price__fed_requires_06eb377159: price(currency: "EUR")
                }
              }
            },
            Parallel {
              Flatten(path: "products.@") {
                Fetch(service: "shipping") {
                  {
                    ... on Product { __typename id price__fed_requires_ecbabde380: price }
                  } =>
                  query ($representations: [_Any!]!) {
                    _entities(representations: $representations) {
                      ... on Product {
                        usd
                      }
                    }
                  }
                },
              },
              Flatten(path: "products.@") {
                Fetch(service: "shipping") {
                  {
                    ... on Product { __typename id price__fed_requires_06eb377159: price }
                  } =>
                  query ($representations: [_Any!]!) {
                    _entities(representations: $representations) {
                      ... on Product {
                        eur
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


# products (Query.products), inventory (Product.weight), shipping (Product.name, and
# Product.shippingCost @requires(fields: "weight")), from @apollo/composition.
CHAIN_TYPES = """
type Product
  @join__type(graph: INVENTORY, key: "id")
  @join__type(graph: PRODUCTS, key: "id")
  @join__type(graph: SHIPPING, key: "id")
{
  id: ID!
  weight: Int @join__field(graph: INVENTORY) @join__field(graph: SHIPPING, external: true)
  name: String! @join__field(graph: SHIPPING)
  shippingCost: Int @join__field(graph: SHIPPING, requires: "weight")
}

type Query
  @join__type(graph: INVENTORY)
  @join__type(graph: PRODUCTS)
  @join__type(graph: SHIPPING)
{
  products: [Product!]! @join__field(graph: PRODUCTS)
}
"""


@pytest.fixture(scope="module")
def chain() -> Supergraph:
    graphs = local_graphs("products", "inventory", "shipping")
    return load_supergraph(supergraph(graphs, CHAIN_TYPES))


def test_key_only_fields_join_the_requires_fetch_of_their_subgraph(chain: Supergraph) -> None:
    # name (shipping, key only) is fetched with shippingCost (shipping, after the weight it
    # needs from inventory): one shipping fetch, on the chain that was the plan's longest
    # anyway, and name alone for the products whose weight did not come (the fallback)
    assert plan_text(chain, "{ products { name shippingCost } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              {
                products {
                  __typename
                  id
                }
              }
            },
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
            Flatten(path: "products.@") {
              Fetch(service: "shipping") {
                {
                  ... on Product { __typename id weight }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Product {
                      shippingCost
                      name
                    }
                  }
                }
                Fallback (objects missing a @requires input) {
                  Fetch(service: "shipping") {
                    {
                      ... on Product { __typename id }
                    } =>
                    query ($representations: [_Any!]!) {
                      _entities(representations: $representations) {
                        ... on Product {
                          name
                        }
                      }
                    }
                  },
                },
              },
            },
          },
        }
        """
    )


def test_the_order_of_the_fields_does_not_change_the_fold(chain: Supergraph) -> None:
    assert plan_text(chain, "{ products { shippingCost name } }") == plan_text(
        chain, "{ products { name shippingCost } }"
    )


def test_a_key_only_field_under_a_condition_is_not_folded(chain: Supergraph) -> None:
    # its fetch runs only when $x holds, the @requires one always: they stay two
    query = "query ($x: Boolean!) { products { name @include(if: $x) shippingCost } }"
    text = plan_text(chain, query)
    assert text.count('Fetch(service: "shipping")') == 2
    assert "Fallback" not in text


# shipping: Product.cost @requires(fields: "price(discount: 5)"), Product.label
# @requires(fields: "price"); products owns price(discount: Int = 0). From @apollo/composition.
PRICED_TYPES = """
type Product
  @join__type(graph: PRODUCTS, key: "id")
  @join__type(graph: SHIPPING, key: "id")
{
  id: ID!
  price(discount: Int = 0): Int! @join__field(graph: PRODUCTS) @join__field(graph: SHIPPING, external: true)
  cost: Int @join__field(graph: SHIPPING, requires: "price(discount: 5)")
  label(lang: String = "en"): String @join__field(graph: SHIPPING, requires: "price")
}

type Query
  @join__type(graph: PRODUCTS)
  @join__type(graph: SHIPPING)
{
  products: [Product] @join__field(graph: PRODUCTS)
}
"""


@pytest.fixture(scope="module")
def priced() -> Supergraph:
    return load_supergraph(supergraph(local_graphs("products", "shipping"), PRICED_TYPES))


def test_requires_of_one_field_with_and_without_arguments_use_separate_fetches(
    priced: Supergraph,
) -> None:
    # a representation has one `price`: cost's (discount 5) and label's (discount 0) each go
    # in a fetch of their own
    assert plan_text(priced, "{ products { cost label } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              {
                products {
                  __typename
                  id
                  price__fed_requires_46345bc34f: price(discount: 5)
                  price
                }
              }
            },
            Parallel {
              Flatten(path: "products.@") {
                Fetch(service: "shipping") {
                  {
                    ... on Product { __typename id price__fed_requires_46345bc34f: price }
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
              Flatten(path: "products.@") {
                Fetch(service: "shipping") {
                  {
                    ... on Product { __typename id price }
                  } =>
                  query ($representations: [_Any!]!) {
                    _entities(representations: $representations) {
                      ... on Product {
                        label
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


def test_requires_apart_by_arguments_whichever_comes_first_and_under_a_condition(
    priced: Supergraph,
) -> None:
    query = "query ($s: Boolean!) { products { label @skip(if: $s) cost } }"
    assert plan_text(priced, query) == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              {
                products {
                  __typename
                  id
                  price
                  price__fed_requires_46345bc34f: price(discount: 5)
                }
              }
            },
            Parallel {
              Skip(if: $s) {
                Flatten(path: "products.@") {
                  Fetch(service: "shipping") {
                    {
                      ... on Product { __typename id price }
                    } =>
                    query ($representations: [_Any!]!, $s: Boolean!) {
                      _entities(representations: $representations) {
                        ... on Product {
                          label @skip(if: $s)
                        }
                      }
                    }
                  },
                },
              },
              Flatten(path: "products.@") {
                Fetch(service: "shipping") {
                  {
                    ... on Product { __typename id price__fed_requires_46345bc34f: price }
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
          },
        }
        """
    )
