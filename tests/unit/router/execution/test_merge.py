"""Walking and merging the response tree, building representations and grouping objects by
them, and copying decoded JSON."""

from typing import Any

from router.execution.merge import (
    deep_merge,
    linked_objects_at,
    objects_at,
    path_of,
    paths_of,
    unalias,
)
from router.execution.representations import grouped, representation
from router.jsoncopy import copied
from router.planning.nodes import EntityInput, InputField, InputFragment

ABSTRACT = frozenset({"Node"})


def _walked(data: object, path: tuple[str, ...]) -> list[tuple[object, list[str | int]]]:
    """Both walks, which must agree: each object with its path."""
    linked: list[tuple[object, list[str | int]]] = [
        (obj, path_of(link)) for obj, link in linked_objects_at(data, path)
    ]
    found = objects_at(data, path)
    assert [obj for obj, _ in linked] == found
    assert all(a is b for (a, _), b in zip(linked, found, strict=True))
    assert paths_of(data, path, found) == [at for _, at in linked]
    return linked


def test_objects_at_follows_lists_and_skips_nulls() -> None:
    data = {"a": [{"b": {"x": 1}}, None, {"b": None}, {"b": {"x": 2}}]}
    assert _walked(data, ("a", "@", "b")) == [
        ({"x": 1}, ["a", 0, "b"]),
        ({"x": 2}, ["a", 3, "b"]),
    ]


def test_objects_at_steps_into_lists_the_path_does_not_mark() -> None:
    data = {"a": [[{"b": {"x": 1}}, 7], {"b": [{"x": 2}, None, [{"x": 3}]]}], "z": "leaf"}
    assert _walked(data, ("a", "b")) == [
        ({"x": 1}, ["a", 0, 0, "b"]),
        ({"x": 2}, ["a", 1, "b", 0]),
        ({"x": 3}, ["a", 1, "b", 2, 0]),
    ]
    assert _walked(data, ("z", "@")) == []
    assert _walked(data, ("missing", "b")) == []


def test_paths_of_objects_after_the_tree_changed() -> None:
    """A fetch merged in between: the objects still in the tree are found where they are
    now (one object twice, as a shared entity is), one no longer in it has no path."""
    shared = {"x": 1}
    lost = {"x": 2}
    data = {"a": [{"b": shared}, {"b": lost}, {"b": shared}]}
    found = objects_at(data, ("a", "@", "b"))
    assert found == [shared, lost, shared]
    data["a"] = [{"b": {"x": 0}}, {"b": shared}, {"b": shared}]  # a list of other length
    assert paths_of(data, ("a", "@", "b"), found) == [["a", 1, "b"], None, ["a", 2, "b"]]


def test_deep_merge_merges_nested_objects_and_lists() -> None:
    target = {"a": {"b": 1}, "l": [{"x": 1}, {"x": 2}]}
    deep_merge(target, {"a": {"c": 2}, "l": [{"y": 1}, {"y": 2}]}, ABSTRACT)
    assert target == {"a": {"b": 1, "c": 2}, "l": [{"x": 1, "y": 1}, {"x": 2, "y": 2}]}


def test_deep_merge_keeps_concrete_typename_over_interface_name() -> None:
    target = {"__typename": "User"}
    deep_merge(target, {"__typename": "Node", "id": "1"}, ABSTRACT)
    assert target == {"__typename": "User", "id": "1"}


def test_unalias_restores_response_keys() -> None:
    data = {"a": [{"id__fed_alias_1": "x", "id": None}], "b__fed_alias_2": {"c": 1}, "b": {"d": 2}}
    assert unalias(data, "__fed_alias_", ABSTRACT) == {
        "a": [{"id": "x"}],
        "b": {"c": 1, "d": 2},
    }


def test_representation_reads_keys_requires_and_aliases() -> None:
    entity_input = EntityInput(
        frozenset({"Book"}),
        "Book",
        (
            InputField("__typename"),
            InputField("id"),
            InputField("price", None, "price__fed_requires_1"),
            InputField(
                "meta", (InputField("__typename"), InputFragment("Tag", (InputField("t"),)))
            ),
        ),
    )
    obj = {
        "__typename": "Book",
        "id": "b1",
        "price__fed_requires_1": 3,
        "meta": {"__typename": "Tag", "t": "x", "extra": 1},
    }
    assert representation(obj, entity_input) == {
        "__typename": "Book",
        "id": "b1",
        "price": 3,
        "meta": {"__typename": "Tag", "t": "x"},
    }


def test_representation_is_skipped_when_a_key_is_missing() -> None:
    entity_input = EntityInput(frozenset({"Book"}), "Book", (InputField("id"),))
    assert representation({"__typename": "Book"}, entity_input) is None


def test_scalar_keys_are_read_by_name_as_the_general_walk_reads_them() -> None:
    flat = EntityInput(
        frozenset({"Book"}),
        "Book",
        (InputField("__typename"), InputField("id"), InputField("isbn", None, "isbn__alias")),
    )
    nested = EntityInput(flat.typenames, "Book", (*flat.selections, InputField("m", ())))
    assert flat.flat == (("__typename", "__typename"), ("id", "id"), ("isbn", "isbn__alias"))
    assert nested.flat is None
    obj = {"id": "b1", "isbn__alias": "978", "isbn": "other", "m": {}}
    assert representation(obj, flat) == {"id": "b1", "isbn": "978", "__typename": "Book"}
    assert representation(obj, nested) == {"id": "b1", "isbn": "978", "m": {}, "__typename": "Book"}
    assert representation({"id": "b1"}, flat) is None  # a key missing: no representation


BOOK = EntityInput(frozenset({"Book"}), "Book", (InputField("__typename"), InputField("id")))
MAGAZINE = EntityInput(frozenset({"Magazine"}), "Magazine", (InputField("id"),))


def test_objects_with_one_representation_share_it_in_the_order_first_met() -> None:
    walked: list[dict[str, Any]] = [
        {"__typename": "Book", "id": "b1", "title": "A"},
        {"__typename": "Magazine", "id": "b1"},
        {"__typename": "Book", "id": "b2"},
        {"__typename": "Book", "id": "b1"},
        {"__typename": "Pen", "id": "b1"},  # no input takes it
        {"__typename": "Book"},  # a key missing
        {"__typename": ["Book"], "id": "b1"},  # not a name
        {"__typename": "Magazine", "id": "b1"},
    ]
    representations, targets, owners = grouped(walked, (BOOK, MAGAZINE))
    assert representations == [
        {"__typename": "Book", "id": "b1"},
        {"id": "b1", "__typename": "Magazine"},
        {"__typename": "Book", "id": "b2"},
    ]
    assert all(
        obj is walked[at]
        for objects, positions in zip(targets, owners, strict=True)
        for obj, at in zip(objects, positions, strict=True)
    )
    assert owners == [[0, 3], [1, 7], [2]]


def test_key_values_that_are_not_hashable_are_told_apart_by_the_representation() -> None:
    nested = EntityInput(frozenset({"Book"}), "Book", (InputField("id"),))
    walked: list[dict[str, Any]] = [
        {"__typename": "Book", "id": ["x", 1]},
        {"__typename": "Book", "id": "x"},
        {"__typename": "Book", "id": ["x", 1]},
        {"__typename": "Book", "id": {"a": 1}},
        {"__typename": "Book", "id": {"a": 1}},
    ]
    representations, _, owners = grouped(walked, (nested,))
    assert representations == [
        {"id": ["x", 1], "__typename": "Book"},
        {"id": "x", "__typename": "Book"},
        {"id": {"a": 1}, "__typename": "Book"},
    ]
    assert owners == [[0, 2], [1], [3, 4]]


def test_inputs_with_fields_below_the_key_group_by_the_whole_representation() -> None:
    deep = EntityInput(
        frozenset({"Book"}), "Book", (InputField("id"), InputField("meta", (InputField("t"),)))
    )
    walked: list[dict[str, Any]] = [
        {"__typename": "Book", "id": 1, "meta": {"t": "x", "u": 1}},
        {"__typename": "Book", "id": 1, "meta": {"t": "y"}},
        {"__typename": "Book", "id": 1, "meta": {"t": "x"}},
    ]
    representations, _, owners = grouped(walked, (deep,))
    assert [rep["meta"] for rep in representations] == [{"t": "x"}, {"t": "y"}]
    assert owners == [[0, 2], [1]]


def test_a_json_copy_shares_nothing_that_can_change() -> None:
    original = {"data": {"_entities": [{"id": 1, "tags": ["a", {"b": None}], "m": {}}], "n": 1.5}}
    copy = copied(original)
    assert copy == original
    entity = copy["data"]["_entities"][0]
    entity["tags"][1]["b"] = 2
    entity["tags"].append("c")
    entity["m"]["k"] = True
    copy["data"]["_entities"].append({})
    copy["errors"] = []
    assert original == {
        "data": {"_entities": [{"id": 1, "tags": ["a", {"b": None}], "m": {}}], "n": 1.5}
    }
    assert copied([[1], "x"]) == [[1], "x"]
    assert copied("x") == "x"
