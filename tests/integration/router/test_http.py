"""GraphQL over HTTP: methods, media types, status codes and clear request errors."""

import httpx

from router import native

GRAPHQL_RESPONSE = "application/graphql-response+json"


async def test_health(router: httpx.AsyncClient) -> None:
    response = await router.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    # its hot modules compiled or not (router.native), as this process imported them
    assert response.json()["execution"] == native.in_use()


async def test_get_query(router: httpx.AsyncClient) -> None:
    params = {"query": "query($id: ID!) { product(id: $id) { name } }", "variables": '{"id":"p1"}'}
    response = await router.get("/graphql", params=params)
    assert response.status_code == 200
    assert response.json() == {"data": {"product": {"name": "Chair"}}}


async def test_mutation_over_get_is_refused(router: httpx.AsyncClient) -> None:
    response = await router.get(
        "/graphql", params={"query": 'mutation { createProduct(name: "x") { id } }'}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_graphiql_for_browsers(router: httpx.AsyncClient) -> None:
    response = await router.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_media_type_negotiation(router: httpx.AsyncClient) -> None:
    query = {"query": "{ topProduct { id } }"}
    plain = await router.post("/graphql", json=query)
    assert plain.headers["content-type"].startswith("application/json")
    modern = await router.post("/graphql", json=query, headers={"Accept": GRAPHQL_RESPONSE})
    assert modern.headers["content-type"].startswith(GRAPHQL_RESPONSE)


async def test_malformed_json_is_a_clear_400(router: httpx.AsyncClient) -> None:
    response = await router.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "JSON" in error["message"]
    assert "Traceback" not in response.text


async def test_missing_query_is_a_400(router: httpx.AsyncClient) -> None:
    response = await router.post("/graphql", json={"variables": {}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_parse_error(router: httpx.AsyncClient) -> None:
    response = await router.post("/graphql", json={"query": "{ products { "})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_validation_error(router: httpx.AsyncClient) -> None:
    response = await router.post("/graphql", json={"query": "{ products { nope } }"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_inaccessible_field_is_not_queryable(router: httpx.AsyncClient) -> None:
    response = await router.post("/graphql", json={"query": "{ products { secret } }"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_bad_variables_are_a_400(router: httpx.AsyncClient) -> None:
    query = "query($id: ID!) { product(id: $id) { name } }"
    response = await router.post("/graphql", json={"query": query, "variables": {}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_introspection_is_answered_locally(router: httpx.AsyncClient) -> None:
    query = '{ __schema { queryType { name } } __type(name: "Product") { fields { name } } }'
    response = await router.post("/graphql", json={"query": query})
    data = response.json()["data"]
    assert data["__schema"]["queryType"]["name"] == "Query"
    names = [f["name"] for f in data["__type"]["fields"]]
    assert names == ["id", "name", "price", "reviews"]


async def test_oversized_query_is_rejected(router: httpx.AsyncClient) -> None:
    query = "{ " + " ".join(f"a{i}: topProduct {{ id }}" for i in range(20_000)) + " }"
    response = await router.post("/graphql", json={"query": query})
    assert response.status_code in (400, 413)
    assert response.json()["errors"][0]["extensions"]["code"] in (
        "GRAPHQL_PARSE_FAILED",
        "QUERY_TOO_LARGE",
    )


async def test_hostile_nesting_is_rejected_before_execution(router: httpx.AsyncClient) -> None:
    query = "{ topProduct { " + "reviews { author { id } } " + "} }"
    assert (await router.post("/graphql", json={"query": query})).status_code == 200
    fragment = "fragment F on Product { reviews { id } }"
    deep = "{ products { " * 70 + "id" + " }" * 70  # not even valid: refused either way
    response = await router.post("/graphql", json={"query": deep + fragment})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] in ("GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED")
    assert "Traceback" not in response.text


def test_limits_count_through_fragments() -> None:
    from graphql import parse

    from router.gateway.limits import Limits, check_limits

    small = Limits(max_depth=3, max_aliases=1, max_root_fields=2)
    assert check_limits(parse("{ a { b { c } } x: d }"), small) == []
    document = parse("fragment F on T { b { c { d } } y: e z: f } { a { ...F } g h }")
    codes = {
        (error.extensions or {})["code"]: error.message for error in check_limits(document, small)
    }
    assert set(codes) == {"MAX_DEPTH_LIMIT", "MAX_ALIASES_LIMIT", "MAX_ROOT_FIELDS_LIMIT"}
    assert "4 levels" in codes["MAX_DEPTH_LIMIT"]
    assert "2 aliases" in codes["MAX_ALIASES_LIMIT"]
    assert "3 root fields" in codes["MAX_ROOT_FIELDS_LIMIT"]
