"""A subscription's events completed without graphql-core's per-event execution give exactly
what graphql-core gives (aliases, fragments, __typename, @skip/@include, nulls, enums,
lists, nested objects), and every event it cannot answer that way (errors, a null in a
non-null field, an interface) goes back to graphql-core; through a subgraph's schema, a
subscription's second subscriber (its text accepted once) gets the same messages, errors
included, as the first."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncGenerator
from typing import Any

import pytest
import strawberry
from graphql import ExecutionResult as GraphQLResult
from graphql import parse
from graphql.execution import Executor, execute_subscription_event
from strawberry.types import ExecutionResult

from common.errors import Forbidden
from common.graphql.event_completion import EventCompletion
from common.graphql.schema import ServiceSchema


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Tag(Named):
    weight: int | None


@strawberry.type
class Owner:
    id: strawberry.ID
    email: str | None


@strawberry.type
class Event:
    id: strawberry.ID
    title: str
    colour: Colour
    score: float | None
    tags: list[str]
    owner: Owner | None
    owners: list[Owner]
    label: Tag | None
    named: Named | None
    fragile: strawberry.Private[bool]

    @strawberry.field
    def loud(self) -> str:
        return self.title.upper()

    @strawberry.field
    def strict(self) -> str:
        if self.fragile:
            raise ValueError("no strict title for this one")
        return self.title

    @strawberry.field
    def must(self) -> str:
        return None if self.fragile else self.title  # type: ignore[return-value]

    @strawberry.field
    def shout(self, times: int = 1) -> str:
        return self.title * times


def event(fragile: bool = False) -> Event:
    return Event(
        id=strawberry.ID("e1"),
        title="hello",
        colour=Colour.BLUE,
        score=None,
        tags=["a", "b"],
        owner=Owner(id=strawberry.ID("o1"), email=None),
        owners=[Owner(id=strawberry.ID("o2"), email="x@example.org")],
        label=Tag(name="t", weight=3),
        named=Tag(name="n", weight=None),
        fragile=fragile,
    )


@strawberry.type
class Query:
    ping: str = "pong"


EVENTS: list[Any] = []


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def happened(self, colour: Colour | None = None) -> AsyncGenerator[Event, None]:
        for item in list(EVENTS):
            yield item


schema = ServiceSchema(query=Query, subscription=Subscription, types=[Tag])

PLANNED = [
    "subscription { happened { id title colour score tags loud } }",
    "subscription { ev: happened(colour: RED) { key: id t: title __typename } }",
    "subscription { happened { ...F owner { id email __typename } } } "
    "fragment F on Event { title colour }",
    "subscription S($no: Boolean!) { happened { id title @skip(if: $no) "
    "... on Event @include(if: $no) { loud } owners { email } } }",
    "subscription { happened { id } happened { title } }",
    "subscription { happened { __typename } }",
    "subscription { happened { label { name weight __typename } } }",  # a Tag, a Named too
]
UNPLANNED = [
    "subscription { happened { named { name } } }",  # an interface: the type is per value
    "subscription { happened { shout(times: 2) } }",  # a field with arguments
    "subscription { __typename }",  # not the subscription field
]


def executor(query: str) -> Executor[Any]:
    built = Executor.build(schema._schema, parse(query), raw_variable_values={"no": True})
    assert isinstance(built, Executor)
    return built


def graphql_core(built: Executor[Any], payload: Any) -> GraphQLResult:
    result = execute_subscription_event(built.build_per_event_executor(payload))
    assert isinstance(result, GraphQLResult)
    return result


@pytest.mark.parametrize("query", PLANNED)
def test_an_event_is_completed_as_graphql_core_completes_it(query: str) -> None:
    built = executor(query)
    completion = EventCompletion.planned(built)
    assert completion is not None
    payload = event()
    assert completion.data(payload) == graphql_core(built, payload).data


@pytest.mark.parametrize("query", UNPLANNED)
def test_what_it_does_not_complete_stays_with_graphql_core(query: str) -> None:
    assert EventCompletion.planned(executor(query)) is None


def test_an_event_with_errors_goes_back_to_graphql_core() -> None:
    built = executor("subscription { happened { id strict } }")
    completion = EventCompletion.planned(built)
    assert completion is not None
    assert completion.data(event(fragile=True)) is None  # the resolver raises
    assert completion.data(Forbidden("not yours")) is None  # an error in place of the event
    assert graphql_core(built, event(fragile=True)).errors
    not_null = executor("subscription { happened { must } }")
    planned = EventCompletion.planned(not_null)
    assert planned is not None
    assert planned.data(event(fragile=True)) is None  # null in a non-null field
    assert planned.data(event()) == {"happened": {"must": "hello"}}


def stream(query: str) -> list[dict[str, Any]]:
    async def messages() -> list[dict[str, Any]]:
        context = type("Context", (), {"cache_policy": None})()
        results = await schema.stream(query, context_value=context)
        answered = []
        async for result in results:
            assert isinstance(result, ExecutionResult)  # PreExecutionError is one too
            answered.append(
                {
                    "kind": type(result).__name__,
                    "data": result.data,
                    "errors": [error.formatted for error in result.errors or ()],
                    "extensions": result.extensions or {},
                }
            )
        return answered

    return asyncio.run(messages())


@pytest.mark.parametrize(
    "query",
    [
        *PLANNED[:3],
        "subscription { happened { id strict must } }",
        "subscription { happened { named { name ... on Tag { weight } } } }",
        "subscription { happened(colour: GREEN) { id } }",  # refused before it starts
    ],
)
def test_a_subgraph_streams_a_second_subscriber_what_it_streamed_the_first(
    query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    EVENTS[:] = [event(), event(fragile=True), Forbidden("not yours"), event()]
    planned: list[EventCompletion | None] = []
    plan = EventCompletion.planned

    def planning(built: Executor[Any]) -> EventCompletion | None:
        planned.append(plan(built))
        return planned[-1]

    first = stream(query)  # Strawberry's path: the text is accepted here
    monkeypatch.setattr(EventCompletion, "planned", staticmethod(planning))
    second = stream(query)
    assert second == first
    refused = len(first) == 1
    assert first[0]["kind"] == ("PreExecutionError" if refused else "ExecutionResult")
    assert len(planned) == (0 if refused else 1)  # the second took the prepared path
