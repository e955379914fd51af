"""The router's own metrics at `/metrics`, moved by real traffic through it: requests by
operation, status class and error code with their latency, each subgraph fetch's latency and
failures by reason, the plan cache, WebSocket connections; operation names stay bounded
whatever a client sends."""

from tests.integration.router.resilience_world import World, resilience_world
from tests.support import eventually
from tests.ws import graphql_socket

NAMED = "query TopName { topProduct { name } }"
MIXED = "query Mixed { topProduct { name reviews { body author { email } } } }"


async def _requests(world: World, operation: str, **labels: str) -> float:
    return await world.metric("router_http_requests_total", operation=operation, **labels)


async def test_a_request_is_counted_by_operation_status_class_and_error_code() -> None:
    async with resilience_world({}) as world:
        before = await _requests(world, "TopName", status_class="2xx", error_code="")
        timed = await world.metric(
            "router_http_request_duration_seconds_count", operation="TopName"
        )
        assert (await world.query(NAMED)) == {"data": {"topProduct": {"name": "Chair"}}}
        assert await _requests(world, "TopName", status_class="2xx", error_code="") == before + 1
        assert (
            await world.metric("router_http_request_duration_seconds_count", operation="TopName")
            == timed + 1
        )

        refused = await world.router.post("/graphql", json={"query": "{ nope }"})
        assert refused.status_code == 400
        assert (
            await _requests(
                world, "anonymous", status_class="4xx", error_code="GRAPHQL_VALIDATION_FAILED"
            )
            >= 1
        )


async def test_a_failing_subgraph_shows_in_its_fetch_errors() -> None:
    async with resilience_world({}) as world:
        fetched = await world.metric(
            "router_subgraph_fetch_duration_seconds_count", subgraph="users"
        )
        await world.query(MIXED)
        assert (
            await world.metric("router_subgraph_fetch_duration_seconds_count", subgraph="users")
            == fetched + 1
        )
        failed = await world.metric(
            "router_subgraph_fetch_errors_total", subgraph="users", reason="connect"
        )
        await world.kill("users")
        body = await world.query(MIXED)
        assert body["errors"], body
        assert (
            await world.metric(
                "router_subgraph_fetch_errors_total", subgraph="users", reason="connect"
            )
            == failed + 1
        )


async def test_the_second_identical_query_hits_the_plan_cache() -> None:
    async with resilience_world({}) as world:
        query = "query PlanCached { products { id } }"
        misses = await world.metric("router_query_plan_cache_total", result="miss")
        hits = await world.metric("router_query_plan_cache_total", result="hit")
        await world.query(query)
        assert await world.metric("router_query_plan_cache_total", result="miss") == misses + 1
        assert await world.metric("router_query_plan_cache_total", result="hit") == hits
        await world.query(query)
        assert await world.metric("router_query_plan_cache_total", result="hit") == hits + 1
        assert await world.metric("router_query_plan_cache_total", result="miss") == misses + 1


async def test_the_websocket_gauge_goes_up_with_a_connection_and_down_after_it_closes() -> None:
    async with resilience_world({}) as world:
        url = str(world.router.base_url).rstrip("/")
        before = await world.metric("router_websocket_connections")
        async with graphql_socket(url) as socket:
            assert (await socket.init())["type"] == "connection_ack"
            assert await world.metric("router_websocket_connections") == before + 1

        async def closed() -> bool:
            return await world.metric("router_websocket_connections") == before

        await eventually(closed)


async def test_hostile_operation_names_do_not_grow_the_series_without_bound() -> None:
    async with resilience_world({}) as world:
        other = await _requests(world, "other")
        for index in range(150):
            await world.query(f"query Hostile{index} {{ topProduct {{ name }} }}")
        text = (await world.router.get("/metrics")).text
        operations = {
            line.split('operation="', 1)[1].split('"', 1)[0]
            for line in text.splitlines()
            if line.startswith("router_http_requests_total{")
        }
        assert len({name for name in operations if name.startswith("Hostile")}) == 100
        assert await _requests(world, "other") == other + 50
