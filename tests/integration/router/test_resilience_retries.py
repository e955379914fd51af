"""Retries (`traffic_shaping.*.experimental_retry`) with real servers: a query whose subgraph
hung up once is answered after one retry; a mutation is never sent twice; when everything
fails, the retry budget bounds the calls."""

from tests.integration.router.resilience_world import resilience_world
from tests.support import error_codes


def _retry(**settings: object) -> dict[str, object]:
    retry = {"attempts": 3, "backoff": "1ms", "max_backoff": "5ms", **settings}
    return {"subgraphs": {"products": {"experimental_retry": retry}}}


async def test_a_query_whose_subgraph_hung_up_once_succeeds_after_one_retry() -> None:
    async with resilience_world(_retry()) as world:
        retried = await world.metric("router_subgraph_retries_total", subgraph="products")
        world.proxies["products"].drop_requests = 1
        body = await world.query("{ topProduct { name } }")
        assert body == {"data": {"topProduct": {"name": "Chair"}}}
        assert world.proxies["products"].requests == 2
        assert len(world.subgraphs["products"].requests) == 1
        assert (
            await world.metric("router_subgraph_retries_total", subgraph="products") == retried + 1
        )


async def test_a_subgraph_answering_503_is_tried_attempts_times() -> None:
    async with resilience_world(_retry(attempts=3)) as world:
        world.subgraphs["products"].down = True  # answers 503 text/plain
        body = await world.query("{ topProduct { name } }")
        assert error_codes(body) == ["SUBREQUEST_HTTP_ERROR"]
        assert "HTTP 503" in body["errors"][0]["message"]
        assert world.proxies["products"].requests == 3


async def test_a_mutation_is_never_retried() -> None:
    async with resilience_world(_retry()) as world:
        world.proxies["products"].drop_requests = 1
        body = await world.query('mutation { createProduct(name: "Stool") { id } }')
        assert body["data"] is None
        assert error_codes(body) == ["SUBREQUEST_HTTP_ERROR"]
        assert world.proxies["products"].requests == 1
        assert world.subgraphs["products"].requests == []


async def test_a_subgraph_without_retries_is_not_retried() -> None:
    async with resilience_world(_retry()) as world:
        world.proxies["reviews"].drop_requests = 1
        body = await world.query('{ product(id: "p1") { name reviews { body } } }')
        assert body["data"] == {"product": None}
        assert error_codes(body) == ["SUBREQUEST_HTTP_ERROR"]
        assert world.proxies["reviews"].requests == 1


async def test_the_retry_budget_bounds_the_calls_when_everything_fails() -> None:
    requests, share, reserve_per_second, ttl = 40, 0.2, 1, 30
    shaping = _retry(attempts=4, retry_percent=share, min_per_sec=reserve_per_second, ttl=f"{ttl}s")
    async with resilience_world(shaping) as world:
        exhausted = await world.metric(
            "router_subgraph_retry_budget_exhausted_total", subgraph="products"
        )
        world.proxies["products"].drop_all = True
        for _ in range(requests):
            body = await world.query("{ topProduct { name } }")
            assert error_codes(body) == ["SUBREQUEST_HTTP_ERROR"]
        calls = world.proxies["products"].requests
        # Without a budget: 4 calls each (160). With it: the requests, their share, the reserve.
        assert requests < calls <= requests * (1 + share) + reserve_per_second * ttl
        assert (
            await world.metric("router_subgraph_retry_budget_exhausted_total", subgraph="products")
            > exhausted
        )
