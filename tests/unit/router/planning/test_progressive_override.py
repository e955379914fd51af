"""Progressive @override(label:): the plan follows the labels a request runs with."""

import random

import pytest

from router.composition import SubgraphInput, compose
from router.supergraph import Supergraph, load_supergraph
from tests.unit.router.planning.helpers import plan_text, snapshot

HEADER = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7",'
    ' import: ["@key", "@override"])\n'
)
OLD = HEADER + (
    "type Query { product: Product }"
    ' type Product @key(fields: "id") { id: ID! name: String price: Int stock: Int rank: Int }'
)
NEW = HEADER + (
    'type Product @key(fields: "id") { id: ID!'
    ' price: Int @override(from: "old", label: "beta")'
    ' stock: Int @override(from: "old", label: "percent(100)")'
    ' rank: Int @override(from: "old", label: "percent(0)") }'
)


def labelled_supergraph() -> str:
    result = compose(
        [
            SubgraphInput("old", "http://old.local/graphql", OLD),
            SubgraphInput("new", "http://new.local/graphql", NEW),
        ]
    )
    assert result.errors == []
    assert result.supergraph_sdl is not None
    return result.supergraph_sdl


@pytest.fixture(scope="module")
def schema() -> Supergraph:
    return load_supergraph(labelled_supergraph())


def test_without_its_label_the_overridden_subgraph_keeps_the_field(schema: Supergraph) -> None:
    assert plan_text(schema, "{ product { name price } }") == snapshot(
        """
        QueryPlan {
          Fetch(service: "old") {
            {
              product {
                name
                price
              }
            }
          },
        }
        """
    )


def test_with_its_label_the_overriding_subgraph_takes_the_field(schema: Supergraph) -> None:
    assert plan_text(schema, "{ product { name price } }", labels={"beta"}) == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "old") {
              {
                product {
                  name
                  __typename
                  id
                }
              }
            },
            Flatten(path: "product") {
              Fetch(service: "new") {
                {
                  ... on Product { __typename id }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Product {
                      price
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_labels_the_supergraph_does_not_use_change_nothing(schema: Supergraph) -> None:
    query = "{ product { name price stock } }"
    assert plan_text(schema, query, labels={"unknown", "percent(50)"}) == plan_text(schema, query)


def test_percent_labels_are_drawn_and_custom_labels_need_configuration(
    schema: Supergraph,
) -> None:
    assert schema.override_labels() == {"beta", "percent(100)", "percent(0)"}
    rng = random.Random(7)
    draws = {schema.draw_labels(frozenset(), rng) for _ in range(200)}
    assert draws == {frozenset({"percent(100)"})}
    enabled = frozenset({"beta", "gamma"})
    assert schema.draw_labels(enabled, rng) == {"beta", "percent(100)"}
    # a configured percent label is on whatever the draw
    assert "percent(0)" in schema.draw_labels(frozenset({"percent(0)"}), rng)


KEYED_OLD = HEADER + (
    "type Query { product: Product }"
    ' type Product @key(fields: "id") @key(fields: "sku") { id: ID! sku: String name: String }'
)
KEYED_NEW = HEADER + (
    'type Product @key(fields: "id")'
    ' { id: ID! sku: String @override(from: "old", label: "percent(20)") }'
)


def test_overridden_key_field_stays_with_its_subgraph_until_the_label_is_on() -> None:
    result = compose(
        [
            SubgraphInput("old", "http://old.local/graphql", KEYED_OLD),
            SubgraphInput("new", "http://new.local/graphql", KEYED_NEW),
        ]
    )
    assert result.supergraph_sdl is not None
    assert "usedOverridden: true, overrideLabel" in result.supergraph_sdl
    keyed = load_supergraph(result.supergraph_sdl)
    assert plan_text(keyed, "{ product { sku } }") == snapshot(
        """
        QueryPlan {
          Fetch(service: "old") {
            {
              product {
                sku
              }
            }
          },
        }
        """
    )
    assert 'Fetch(service: "new")' in plan_text(
        keyed, "{ product { sku } }", labels={"percent(20)"}
    )


JUMP_HEADER = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7",'
    ' import: ["@key", "@override", "@provides", "@external", "@shareable"])\n'
)
JUMP_BILLING = JUMP_HEADER + (
    "type Query { invoices: [Invoice] }"
    ' type Invoice @key(fields: "id")'
    ' { id: ID! account: Account! @provides(fields: "handle") payer: Account }'
    ' type Account @key(fields: "id") { id: ID! handle: String! @external }'
)
JUMP_PROFILES = JUMP_HEADER + (
    "type Query { accounts: [Account!]! }"
    ' type Account @key(fields: "id") { id: ID! handle: String! @shareable tier: Int }'
)
JUMP_ACTIVITY = JUMP_HEADER + (
    'type Account @key(fields: "id") { id: ID! handle: String! @shareable'
    ' tier: Int @override(from: "profiles", label: "percent(100)") }'
)


@pytest.fixture(scope="module")
def jump() -> Supergraph:
    """Account.tier moved from profiles to activity; accounts are reached from billing."""
    result = compose(
        [
            SubgraphInput(name, f"http://{name}.local/graphql", sdl)
            for name, sdl in (
                ("activity", JUMP_ACTIVITY),
                ("billing", JUMP_BILLING),
                ("profiles", JUMP_PROFILES),
            )
        ]
    )
    assert result.errors == []
    assert result.supergraph_sdl is not None
    return load_supergraph(result.supergraph_sdl)


PROVIDED_QUERY = "{ invoices { account { handle tier } } }"


def _tier_from(service: str) -> str:
    plan = snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "billing") {
              {
                invoices {
                  account {
                    handle
                    __typename
                    id
                  }
                }
              }
            },
            Flatten(path: "invoices.@.account") {
              Fetch(service: "SERVICE") {
                {
                  ... on Account { __typename id }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Account {
                      tier
                    }
                  }
                }
              },
            },
          },
        }
        """
    )
    return plan.replace("SERVICE", service)


def test_labelled_override_behind_a_provides_and_a_key_jump(jump: Supergraph) -> None:
    """The entity comes from a third subgraph that @provides a sibling field: the labelled
    field still goes to the overriding subgraph when its label is on, to the old one when off."""
    on = jump.draw_labels(frozenset(), random.Random(1))
    assert on == {"percent(100)"}
    assert plan_text(jump, PROVIDED_QUERY, labels=on) == _tier_from("activity")
    assert plan_text(jump, PROVIDED_QUERY) == _tier_from("profiles")


def test_overriding_subgraph_also_answers_shareable_siblings_in_one_fetch(
    jump: Supergraph,
) -> None:
    query = "{ invoices { payer { handle tier } } }"
    assert plan_text(jump, query, labels={"percent(100)"}) == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "billing") {
              {
                invoices {
                  payer {
                    __typename
                    id
                  }
                }
              }
            },
            Flatten(path: "invoices.@.payer") {
              Fetch(service: "activity") {
                {
                  ... on Account { __typename id }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Account {
                      handle
                      tier
                    }
                  }
                }
              },
            },
          },
        }
        """
    )
