"""Context values read from an entity's ancestors, and the batched `_entities` operation."""

from typing import Any

from graphql import parse, print_ast

from router.execution.contexts import (
    batched_operation,
    context_values,
    contextual_request,
    unbatch,
)
from router.planning.nodes import (
    ContextSource,
    ContextVariable,
    FetchNode,
    InputField,
    InputFragment,
)

LOCALE = ContextSource(
    1,
    frozenset({"Course"}),
    (
        InputField("__typename"),
        InputFragment("Course", (InputField("locale"),), frozenset({"Course"})),
    ),
)
NAME = ContextSource(2, frozenset({"Module"}), (InputField("__typename"), InputField("name")))
DATA: dict[str, Any] = {
    "courses": [
        {"__typename": "Course", "locale": "en", "modules": [{"name": "Sets", "lessons": [{}]}]},
        {"__typename": "Course", "locale": "fr", "modules": [{"lessons": [{}]}]},
        {"__typename": "Course", "locale": None, "modules": [{"name": "Drafts"}]},
    ]
}
OPERATION = (
    "query ($representations: [_Any!]!, $contextualArgument_1_0: String, $first: Int) "
    "{ _entities(representations: $representations) "
    "{ ... on Lesson { heading(locale: $contextualArgument_1_0, first: $first) } } }"
)


def test_the_nearest_ancestor_that_has_the_value_wins() -> None:
    both = (ContextVariable("v", "String", (NAME, LOCALE)),)
    assert context_values(DATA, ["courses", 0, "modules", 0, "lessons", 0], both) == ("Sets",)
    # the module has no name: the course further up sets the value
    assert context_values(DATA, ["courses", 1, "modules", 0, "lessons", 0], both) == ("fr",)


def test_each_list_item_is_its_own_context() -> None:
    locale = (ContextVariable("v", "String", (LOCALE,)),)
    assert context_values(DATA, ["courses", 0, "modules", 0], locale) == ("en",)
    assert context_values(DATA, ["courses", 1, "modules", 0], locale) == ("fr",)
    assert context_values(DATA, ["courses", 2, "modules", 0], locale) == (None,)


def test_an_ancestor_of_another_type_does_not_set_the_context() -> None:
    other = ContextSource(1, frozenset({"Program"}), LOCALE.selections)
    assert context_values(
        DATA, ["courses", 0, "modules", 0], (ContextVariable("v", "String", (other,)),)
    ) == (None,)
    assert (
        context_values(
            DATA, ["courses", 0, "modules", 0], (ContextVariable("v", "String!", (other,)),)
        )
        is None
    )


def test_a_null_for_a_non_null_argument_is_no_value() -> None:
    required = (ContextVariable("v", "String!", (LOCALE,)),)
    assert context_values(DATA, ["courses", 2, "modules", 0], required) is None
    assert context_values(DATA, ["courses", 1, "modules", 0], required) == ("fr",)


def test_several_value_sets_become_aliased_entities_calls() -> None:
    text = batched_operation(OPERATION, frozenset({"contextualArgument_1_0"}), 2)
    assert text == print_ast(
        parse(
            "query ($representations_0: [_Any!]!, $representations_1: [_Any!]!, "
            "$contextualArgument_1_0_0: String, $contextualArgument_1_0_1: String, $first: Int) {"
            " _0: _entities(representations: $representations_0) "
            "{ ... on Lesson { heading(locale: $contextualArgument_1_0_0, first: $first) } }"
            " _1: _entities(representations: $representations_1) "
            "{ ... on Lesson { heading(locale: $contextualArgument_1_0_1, first: $first) } } }"
        )
    )


def test_batched_answers_and_errors_come_back_in_representation_order() -> None:
    fetch = FetchNode(
        "s", OPERATION, contexts=(ContextVariable("contextualArgument_1_0", "String", ()),)
    )
    reps = [{"id": "a"}, {"id": "b"}, {"id": "c"}]
    variables: dict[str, Any] = {}
    batches = contextual_request(fetch, reps, [("en",), ("fr",), ("en",)], variables)
    assert variables == {
        "representations_0": [{"id": "a"}, {"id": "c"}],
        "contextualArgument_1_0_0": "en",
        "representations_1": [{"id": "b"}],
        "contextualArgument_1_0_1": "fr",
    }
    response = {
        "data": {"_0": [{"x": "A"}, {"x": "C"}], "_1": [None]},
        "errors": [{"message": "no b", "path": ["_1", 0, "x"]}, {"message": "other"}],
    }
    assert unbatch(response, batches, 3) == {
        "data": {"_entities": [{"x": "A"}, None, {"x": "C"}]},
        "errors": [{"message": "no b", "path": ["_entities", 1, "x"]}, {"message": "other"}],
    }


def test_a_short_batch_answer_is_reported_as_a_count_mismatch() -> None:
    fetch = FetchNode(
        "s", OPERATION, contexts=(ContextVariable("contextualArgument_1_0", "String", ()),)
    )
    batches = contextual_request(fetch, [{"id": "a"}, {"id": "b"}], [("en",), ("fr",)], {})
    answer = unbatch({"data": {"_0": [{"x": "A"}], "_1": []}}, batches, 2)
    assert answer["data"]["_entities"] == [{"x": "A"}]


def test_a_nested_selection_gives_its_leaf_through_lists() -> None:
    owner = InputField("owner", (InputField("__typename"), InputField("name")))
    nested = ContextSource(1, frozenset({"Course"}), (InputField("__typename"), owner))
    listed = ContextSource(1, frozenset({"Course"}), (InputField("tags", (InputField("label"),)),))
    data = {
        "c": {
            "__typename": "Course",
            "owner": {"__typename": "User", "name": "Ada"},
            "tags": [{"label": "x"}, {"label": None}],
            "m": {},
        }
    }
    assert context_values(data, ["c", "m"], (ContextVariable("v", "String", (nested,)),)) == (
        "Ada",
    )
    assert context_values(data, ["c", "m"], (ContextVariable("v", "[String]", (listed,)),)) == (
        ["x", None],
    )
