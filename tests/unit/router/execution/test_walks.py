"""The objects at a path are walked once for the fetches at that path, and walked again once
a merge above them may have changed them: a fetch never misses an object a fetch before it
brought, nor merges into objects the tree no longer holds."""

from collections.abc import Mapping
from typing import Any

from router.execution import ExecutionState, execute_plan
from router.planning.nodes import (
    EntityInput,
    FetchNode,
    FlattenNode,
    InputField,
    ParallelNode,
    QueryPlan,
    SequenceNode,
)

KEY = (InputField("__typename"), InputField("id"))


def _entities(service: str, typename: str, key: tuple[InputField, ...] = KEY) -> FetchNode:
    return FetchNode(
        service,
        f"query($representations: [_Any!]!) {{ _entities(representations: $representations) "
        f"{{ ... on {typename} {{ {service} }} }} }}",
        ("representations",),
        (EntityInput(frozenset({typename}), typename, key),),
    )


class Scripted:
    """Answers each subgraph's fetch as the test says, noting the representations sent."""

    def __init__(self) -> None:
        self.sent: dict[str, list[Any]] = {}
        self.representations: dict[str, list[Any]] = {}

    async def send(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str], **_: Any
    ) -> dict[str, Any]:
        representations = payload.get("variables", {}).get("representations", [])
        self.sent[service] = [rep["id"] for rep in representations]
        self.representations[service] = representations
        if service == "root":
            items = [
                {"__typename": "Item", "id": "i1", "part": {"__typename": "Part", "id": "p1"}},
                {"__typename": "Item", "id": "i2", "part": None},
            ]
            return {"data": {"items": items}}
        if service == "parts":  # a part for every item: i2's is new
            parts = {"i1": "p1", "i2": "p2"}
            return {
                "data": {
                    "_entities": [
                        {"part": {"__typename": "Part", "id": parts[rep["id"]]}}
                        for rep in representations
                    ]
                }
            }
        if service == "weights":
            return {"data": {"_entities": [{"weight": 5} for _ in representations]}}
        return {"data": {"_entities": [{service: rep["id"]} for rep in representations]}}


PARTS = ("items", "@", "part")
PLAN = QueryPlan(
    SequenceNode(
        (
            FetchNode("root", "{ items { __typename id part { __typename id } } }"),
            ParallelNode(
                (
                    FlattenNode(PARTS, _entities("early", "Part")),
                    SequenceNode(
                        (
                            FlattenNode(("items", "@"), _entities("parts", "Item")),
                            FlattenNode(PARTS, _entities("late", "Part")),
                        )
                    ),
                )
            ),
        )
    )
)


async def test_a_fetch_sees_the_objects_a_merge_above_its_path_brought() -> None:
    transport = Scripted()
    state = await execute_plan(PLAN, ExecutionState(transport, {}, {}, frozenset()))  # type: ignore[arg-type]
    assert transport.sent["early"] == ["p1"]  # before the parts came
    assert transport.sent["parts"] == ["i1", "i2"]
    assert transport.sent["late"] == ["p1", "p2"]  # walked again: p2 is new
    assert state.data["items"] == [
        {
            "__typename": "Item",
            "id": "i1",
            "part": {"__typename": "Part", "id": "p1", "early": "p1", "late": "p1"},
        },
        {
            "__typename": "Item",
            "id": "i2",
            "part": {"__typename": "Part", "id": "p2", "late": "p2"},
        },
    ]


async def test_fetches_at_one_path_share_its_objects() -> None:
    """Two fetches at one path, one after the other: both reach every object."""
    plan = QueryPlan(
        SequenceNode(
            (
                FetchNode("root", "{ items { __typename id part { __typename id } } }"),
                FlattenNode(PARTS, _entities("early", "Part")),
                FlattenNode(PARTS, _entities("late", "Part")),
            )
        )
    )
    transport = Scripted()
    state = await execute_plan(plan, ExecutionState(transport, {}, {}, frozenset()))  # type: ignore[arg-type]
    assert transport.sent["early"] == transport.sent["late"] == ["p1"]
    assert state.data["items"][0]["part"] == {
        "__typename": "Part",
        "id": "p1",
        "early": "p1",
        "late": "p1",
    }


async def test_representations_are_built_again_once_a_field_they_read_was_merged() -> None:
    """Two fetches with the same inputs at one path, a fetch bringing a field they read in
    between: the second sends what the first could not."""
    weighed = (*KEY, InputField("weight"))
    plan = QueryPlan(
        SequenceNode(
            (
                FetchNode("root", "{ items { __typename id part { __typename id } } }"),
                FlattenNode(PARTS, _entities("early", "Part", weighed)),
                FlattenNode(PARTS, _entities("weights", "Part")),
                FlattenNode(PARTS, _entities("late", "Part", weighed)),
            )
        )
    )
    transport = Scripted()
    await execute_plan(plan, ExecutionState(transport, {}, {}, frozenset()))  # type: ignore[arg-type]
    assert "weight" not in str(transport.representations.get("early"))
    assert transport.representations["late"] == [{"__typename": "Part", "id": "p1", "weight": 5}]
