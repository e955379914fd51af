"""@context/@fromContext served: each entity gets the value its nearest context ancestor sets."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from router.server import create_app
from router.transport import HttpTransport
from tests.integration.router.subgraphs import Subgraph, subgraphs_client
from tests.unit.router.supergraphs import composed, local_graphs

LESSONS = {"l1": {"id": "l1", "title": "Unions"}, "l2": {"id": "l2", "title": "Limits"}}
MODULES = {
    "m1": {"id": "m1", "name": "Sets", "lessons": ["l1"]},
    "m2": {"id": "m2", "name": "Series", "lessons": ["l2"]},
    "m3": {"id": "m3", "name": "Drafts", "lessons": []},
}
COURSES: list[dict[str, Any]] = [
    {"id": "c1", "title": "Algebra", "locale": "en", "modules": ["m1", "m2"]},
    {"id": "c2", "title": "Analyse", "locale": "fr", "modules": ["m1"]},
    {"id": "c3", "title": "Draft", "locale": None, "modules": ["m3"]},
]


def _localised(text: str, locale: str | None) -> str:
    return f"{text} [{locale or 'default'}]"


def _lesson(lesson_id: str) -> dict[str, Any]:
    lesson = LESSONS[lesson_id]
    return {"id": lesson_id, "heading": lambda locale: _localised(lesson["title"], locale)}


def _module(module_id: str) -> dict[str, Any]:
    module = MODULES[module_id]
    return {
        "id": module_id,
        "name": module["name"],
        "lessons": [_lesson(lesson) for lesson in module["lessons"]],
        "summary": lambda locale: _localised(str(module["name"]), locale),
    }


def _course(course: dict[str, Any]) -> dict[str, Any]:
    return {**course, "modules": [_module(m) for m in course["modules"]]}


def _course_by_id(course_id: str) -> dict[str, Any] | None:
    return next((_course(c) for c in COURSES if c["id"] == course_id), None)


def courses_subgraphs() -> dict[str, Subgraph]:
    courses = Subgraph(
        """
        type Query { course(id: ID!): Course courses: [Course!]! }
        type Course { id: ID! title: String! locale: String modules: [Module!]! }
        type Module {
          id: ID! name: String! lessons: [Lesson!]! summary(locale: String): String!
        }
        type Lesson { id: ID! heading(locale: String): String! }
        """,
        root={
            "course": lambda id: _course_by_id(id),
            "courses": lambda: [_course(c) for c in COURSES],
        },
        references={
            "Course": lambda rep: _course_by_id(rep["id"]),
            "Module": lambda rep: _module(rep["id"]),
            "Lesson": lambda rep: _lesson(rep["id"]),
        },
    )
    catalog = Subgraph(
        """
        type Query { featured: [Course!]! }
        type Course { id: ID! featuredAt: String }
        """,
        root={"featured": lambda: [{"id": c, "featuredAt": "home"} for c in ("c2", "c3", "c1")]},
        references={"Course": lambda rep: {"id": rep["id"], "featuredAt": "home"}},
    )
    return {"courses": courses, "catalog": catalog}


UNITS = {"u1": "Intro", "u2": "Outro"}


def _unit(unit_id: str) -> dict[str, Any]:
    return {"id": unit_id, "label": lambda lang: _localised(UNITS[unit_id], lang)}


def owners_subgraphs() -> dict[str, Subgraph]:
    units = Subgraph(
        """
        type Query { tracks: [Track!]! programs: [Program!]! }
        type Track { id: ID! lang: String! unit: Unit! }
        type Program { id: ID! language: String! unit: Unit! }
        type Unit { id: ID! label(lang: String): String! }
        """,
        root={
            "tracks": lambda: [
                {"id": "t1", "lang": "en", "unit": {"id": "u1"}},
                {"id": "t2", "lang": "de", "unit": {"id": "u1"}},
            ],
            "programs": lambda: [{"id": "p1", "language": "es", "unit": {"id": "u2"}}],
        },
        references={"Unit": lambda rep: _unit(rep["id"])},
    )
    return {"units": units}


async def _router(sdl: str, subgraphs: dict[str, Subgraph]) -> AsyncIterator[httpx.AsyncClient]:
    transport = HttpTransport(local_graphs(*subgraphs), client=subgraphs_client(subgraphs))
    app = create_app(sdl, transport=transport)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://router"
    ) as client:
        yield client
    await transport.aclose()


@pytest.fixture
def subgraphs() -> dict[str, Subgraph]:
    return courses_subgraphs()


@pytest.fixture
async def router(subgraphs: dict[str, Subgraph]) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _router(composed("context_two_subgraphs"), subgraphs):
        yield client


async def _query(router: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await router.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _entity_calls(subgraph: Subgraph) -> list[dict[str, Any]]:
    return [r for r in subgraph.requests if "_entities" in r["query"]]


async def test_a_field_one_level_below_gets_its_course_locale(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    body = await _query(router, "{ courses { title modules { name summary } } }")
    assert body == {
        "data": {
            "courses": [
                {
                    "title": "Algebra",
                    "modules": [
                        {"name": "Sets", "summary": "Sets [en]"},
                        {"name": "Series", "summary": "Series [en]"},
                    ],
                },
                {"title": "Analyse", "modules": [{"name": "Sets", "summary": "Sets [fr]"}]},
                {"title": "Draft", "modules": [{"name": "Drafts", "summary": "Drafts [default]"}]},
            ]
        }
    }


async def test_entities_with_different_context_values_are_sent_apart(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    await _query(router, "{ courses { modules { summary } } }")
    [call] = _entity_calls(subgraphs["courses"])
    variables = call["variables"]
    # m1 is in two courses: it is sent once per locale; the null locale is a value too
    assert variables["representations_0"] == [
        {"__typename": "Module", "id": "m1"},
        {"__typename": "Module", "id": "m2"},
    ]
    assert variables["contextualArgument_1_0_0"] == "en"
    assert variables["representations_1"] == [{"__typename": "Module", "id": "m1"}]
    assert variables["contextualArgument_1_0_1"] == "fr"
    assert variables["representations_2"] == [{"__typename": "Module", "id": "m3"}]
    assert variables["contextualArgument_1_0_2"] is None
    assert "locale" not in variables


async def test_one_context_value_is_one_plain_entities_call(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    body = await _query(router, '{ course(id: "c1") { modules { summary } } }')
    assert body["data"]["course"]["modules"] == [
        {"summary": "Sets [en]"},
        {"summary": "Series [en]"},
    ]
    [call] = _entity_calls(subgraphs["courses"])
    assert call["variables"] == {
        "representations": [
            {"__typename": "Module", "id": "m1"},
            {"__typename": "Module", "id": "m2"},
        ],
        "contextualArgument_1_0": "en",
    }


async def test_a_field_two_levels_below_gets_the_course_locale(router: httpx.AsyncClient) -> None:
    body = await _query(router, "{ courses { id modules { lessons { heading } } } }")
    assert body["data"]["courses"] == [
        {
            "id": "c1",
            "modules": [
                {"lessons": [{"heading": "Unions [en]"}]},
                {"lessons": [{"heading": "Limits [en]"}]},
            ],
        },
        {"id": "c2", "modules": [{"lessons": [{"heading": "Unions [fr]"}]}]},
        {"id": "c3", "modules": [{"lessons": []}]},
    ]


async def test_the_context_comes_through_another_subgraph(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    query = "{ featured { featuredAt modules { summary lessons { heading } } } }"
    body = await _query(router, query)
    assert body == {
        "data": {
            "featured": [
                {
                    "featuredAt": "home",
                    "modules": [{"summary": "Sets [fr]", "lessons": [{"heading": "Unions [fr]"}]}],
                },
                {
                    "featuredAt": "home",
                    "modules": [{"summary": "Drafts [default]", "lessons": []}],
                },
                {
                    "featuredAt": "home",
                    "modules": [
                        {"summary": "Sets [en]", "lessons": [{"heading": "Unions [en]"}]},
                        {"summary": "Series [en]", "lessons": [{"heading": "Limits [en]"}]},
                    ],
                },
            ]
        }
    }
    assert subgraphs["catalog"].requests[0]["query"].count("locale") == 0


async def test_aliases_and_variables_of_the_client_are_kept(router: httpx.AsyncClient) -> None:
    query = """query($id: ID!) {
      course(id: $id) { all: modules { s: summary again: summary n: name } }
    }"""
    body = await _query(router, query, id="c2")
    assert body == {
        "data": {"course": {"all": [{"s": "Sets [fr]", "again": "Sets [fr]", "n": "Sets"}]}}
    }


async def test_the_contextual_argument_is_not_in_the_api(router: httpx.AsyncClient) -> None:
    response = await router.post(
        "/graphql", json={"query": '{ courses { modules { summary(locale: "de") } } }'}
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "locale" in error["message"]
    introspection = await _query(
        router, '{ __type(name: "Module") { fields { name args { name } } } }'
    )
    fields = introspection["data"]["__type"]["fields"]
    assert {"name": "summary", "args": []} in fields


async def test_a_wrongly_typed_variable_is_refused_before_any_fetch(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    query = "query($id: ID!) { course(id: $id) { modules { summary } } }"
    response = await router.post("/graphql", json={"query": query, "variables": {"id": [1]}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert subgraphs["courses"].requests == []


async def test_subgraph_errors_in_a_context_batch_reach_the_right_client_path(
    router: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def summary(locale: str | None) -> str:
        if locale == "fr":
            raise ValueError("pas de résumé")
        return _localised("Sets", locale)

    original = _module

    def module(module_id: str) -> dict[str, Any]:
        found = original(module_id)
        return {**found, "summary": summary} if module_id == "m1" else found

    monkeypatch.setattr(f"{__name__}._module", module)
    body = await _query(router, "{ courses { id modules { id summary } } }")
    assert body["data"] is None  # summary is non-null all the way up
    [error] = body["errors"]
    assert error["message"] == "pas de résumé"
    assert error["path"] == ["courses", 1, "modules", 0, "summary"]
    assert error["extensions"]["serviceName"] == "courses"


async def test_the_contextual_subgraph_down_gives_a_coded_error(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["courses"].down = True
    body = await _query(router, "{ featured { featuredAt modules { summary } } }")
    assert body["data"] is None  # modules and summary are non-null all the way up
    # one error on each featured course's modules (never on the context value it selects)
    assert [(e["path"], e["extensions"]) for e in body["errors"]] == [
        (
            ["featured", index, "modules"],
            {"code": "SUBREQUEST_HTTP_ERROR", "serviceName": "courses"},
        )
        for index in range(3)
    ]
    assert len(subgraphs["catalog"].requests) == 1


@pytest.fixture
async def owners() -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Subgraph]]]:
    subgraphs = owners_subgraphs()
    async for client in _router(composed("context_type_conditions"), subgraphs):
        yield client, subgraphs


async def test_type_conditioned_selections_read_each_owner_type_its_own_field(
    owners: tuple[httpx.AsyncClient, dict[str, Subgraph]],
) -> None:
    router, subgraphs = owners
    query = "{ tracks { id unit { label } } programs { unit { id label } } }"
    body = await _query(router, query)
    assert body == {
        "data": {
            "tracks": [
                {"id": "t1", "unit": {"label": "Intro [en]"}},
                {"id": "t2", "unit": {"label": "Intro [de]"}},
            ],
            "programs": [{"unit": {"id": "u2", "label": "Outro [es]"}}],
        }
    }
    calls = _entity_calls(subgraphs["units"])
    assert len(calls) == 2
    for call in calls:
        assert "lang" not in call["variables"]


def nodes_subgraphs() -> dict[str, Subgraph]:
    a = Subgraph(
        """
        type Query { t: [Node!]! }
        interface Node { id: ID! label: String }
        type A implements Node { id: ID! label: String u: U }
        type B implements Node { id: ID! label: String u: U }
        type U { id: ID! f(a: String): Int }
        """,
        root={
            "t": lambda: [
                {"__typename": "A", "id": "a1", "label": "four", "u": {"id": "x"}},
                {"__typename": "B", "id": "b1", "label": "sixsix", "u": {"id": "x"}},
                {"__typename": "B", "id": "b2", "label": None, "u": {"id": "x"}},
            ]
        },
        references={"U": lambda rep: {"id": rep["id"], "f": lambda a: -1 if a is None else len(a)}},
    )
    return {"a": a}


async def test_a_context_set_on_an_interface_is_read_from_each_runtime_type() -> None:
    subgraphs = nodes_subgraphs()
    async for router in _router(composed("context_interface"), subgraphs):
        query = "{ t { id ... on A { u { f } } ... on B { u { id f } } } }"
        body = await _query(router, query)
        assert body == {
            "data": {
                "t": [
                    {"id": "a1", "u": {"f": 4}},
                    {"id": "b1", "u": {"id": "x", "f": 6}},
                    {"id": "b2", "u": {"id": "x", "f": -1}},
                ]
            }
        }
        [call] = _entity_calls(subgraphs["a"])
        assert call["variables"]["contextualArgument_1_0_2"] is None


async def test_a_batch_answered_short_is_a_coded_error_not_wrong_data(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph], monkeypatch: pytest.MonkeyPatch
) -> None:
    courses = subgraphs["courses"]
    answer = courses.entities

    def short(representations: list[dict[str, Any]]) -> list[Any]:
        found = answer(representations)
        return found[:-1] if len(found) > 1 else found

    monkeypatch.setattr(courses, "entities", short)
    body = await _query(router, "{ courses { id modules { summary } } }")
    assert body["data"] is None  # summary is non-null all the way up
    codes = [e["extensions"]["code"] for e in body["errors"]]
    assert "SUBGRAPH_INVALID_RESPONSE" in codes
    message = next(e["message"] for e in body["errors"] if "entities" in e["message"])
    assert message == "subgraph 'courses' returned 3 entities for 4 representations"


def external_subgraphs() -> dict[str, Subgraph]:
    courses = Subgraph(
        """
        type Query { courses: [Course!]! }
        type Course { id: ID! locale: String modules: [Module!]! }
        type Module { id: ID! summary(locale: String): String! }
        """,
        root={
            "courses": lambda: [
                {"id": c["id"], "modules": [{"id": m} for m in c["modules"]]} for c in COURSES
            ]
        },
        references={"Module": lambda rep: _module(rep["id"])},
    )
    catalog = Subgraph(
        "type Query { ping: Int } type Course { id: ID! locale: String }",
        references={"Course": lambda rep: _course_by_id(rep["id"])},
    )
    return {"courses": courses, "catalog": catalog}


async def test_a_context_field_of_another_subgraph_is_fetched_before_it_is_passed() -> None:
    subgraphs = external_subgraphs()
    async for router in _router(composed("context_external"), subgraphs):
        body = await _query(router, "{ courses { modules { summary } } }")
        assert body == {
            "data": {
                "courses": [
                    {"modules": [{"summary": "Sets [en]"}, {"summary": "Series [en]"}]},
                    {"modules": [{"summary": "Sets [fr]"}]},
                    {"modules": [{"summary": "Drafts [default]"}]},
                ]
            }
        }
        assert "locale" not in subgraphs["courses"].requests[0]["query"]
        assert len(subgraphs["catalog"].requests) == 1


async def test_the_context_subgraph_down_passes_no_value_and_says_why() -> None:
    subgraphs = external_subgraphs()
    subgraphs["catalog"].down = True
    async for router in _router(composed("context_external"), subgraphs):
        body = await _query(router, "{ courses { modules { summary } } }")
        assert body["data"]["courses"][0] == {
            "modules": [{"summary": "Sets [default]"}, {"summary": "Series [default]"}]
        }
        # as Apollo Router: a context not found is passed as null; the failed fetch only
        # selected context values, so its error is on each course it would have extended
        assert [(e["path"], e["extensions"]) for e in body["errors"]] == [
            (["courses", index], {"code": "SUBREQUEST_HTTP_ERROR", "serviceName": "catalog"})
            for index in range(3)
        ]


@pytest.mark.parametrize("alias", ["locale", "locale__fed_context", "locale__fed_context1"])
async def test_a_client_alias_cannot_stand_in_for_the_context_value(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph], alias: str
) -> None:
    query = f'{{ course(id: "c2") {{ {alias}: title modules {{ summary }} }} }}'
    body = await _query(router, query)
    assert body == {"data": {"course": {alias: "Analyse", "modules": [{"summary": "Sets [fr]"}]}}}
    [call] = _entity_calls(subgraphs["courses"])
    assert call["variables"]["contextualArgument_1_0"] == "fr"
