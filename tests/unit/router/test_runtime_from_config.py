"""What the runtime takes from `router.yaml` (`router.server.runtime`), and how `create_app`'s
keyword arguments win over it."""

from router.config import parse_config
from router.gateway.limits import Limits
from router.server.runtime import DEFAULT_SUBGRAPH_TIMEOUT, connection_limits, runtime

FILE = """
supergraph: {deduplicate_inflight: true}
limits: {max_depth: 7, http_max_request_bytes: 1000, request_head_timeout: 2s}
traffic_shaping:
  all: {timeout: 5s}
  subgraphs: {products: {timeout: 500ms}, reviews: {compression: gzip}}
override_subgraph_url: {products: "http://p:1/graphql"}
authentication:
  router:
    jwt:
      jwks: [{url: "http://k/jwks.json", issuer: "https://i", audiences: [a], poll_interval: 1m}]
      leeway: 10s
    api_keys: {url: "http://k/trade", cache_for: 5s}
authorization: {directives: {reject_unauthorized: true}, policies: {admin: "roles:ADMIN"}}
subscription: {queue_capacity: 3}
client: {kind: httpx}
"""


def test_the_runtime_is_what_the_file_says() -> None:
    config = parse_config(FILE, environ={})
    built = runtime(config)
    assert built.limits.max_depth == 7
    assert (built.uploads.max_bytes, built.subscriptions.queue_size) == (1000, 3)
    assert (built.subgraph_timeout, dict(built.subgraph_timeouts)) == (5.0, {"products": 0.5})
    assert built.url_overrides == {"products": "http://p:1/graphql"}
    assert (built.client, built.deduplicate) == ("httpx", True)
    jwt = built.authentication
    assert jwt is not None
    assert (jwt.jwks_urls, jwt.issuer, jwt.audience) == (("http://k/jwks.json",), "https://i", "a")
    assert (jwt.leeway_seconds, jwt.jwks_max_age_seconds) == (10, 60.0)
    assert built.api_keys is not None
    assert (built.api_keys.exchange_url, built.api_keys.cache_seconds) == ("http://k/trade", 5.0)
    assert built.authorization.reject_unauthorized
    assert connection_limits(config).head_timeout == 2.0


def test_without_a_file_the_subgraph_timeout_is_the_default() -> None:
    built = runtime(parse_config("", environ={}))
    assert built.subgraph_timeout == DEFAULT_SUBGRAPH_TIMEOUT
    assert (built.authentication, built.api_keys) == (None, None)


def test_overrides_win_over_the_file() -> None:
    config = parse_config(FILE, environ={})
    built = runtime(config, overrides={"limits": Limits(max_depth=3), "client": "streams"})
    assert (built.limits.max_depth, built.client) == (3, "streams")
    assert built.subgraph_timeout == 5.0  # not overridden


def test_subscriptions_share_a_socket_only_where_the_file_says() -> None:
    assert not runtime(parse_config("", environ={})).passthrough.multiplexes("anything")
    some = runtime(
        parse_config(
            "subscription: {mode: {passthrough: {subgraphs: {notifications: {multiplex: true}}}}}",
            environ={},
        )
    ).passthrough
    assert (some.multiplexes("notifications"), some.multiplexes("reviews")) == (True, False)
    most = runtime(
        parse_config(
            "subscription:\n  mode:\n    passthrough:\n      all: {multiplex: true}\n"
            "      subgraphs: {legacy: {multiplex: false}, other: {}}\n",
            environ={},
        )
    ).passthrough
    assert [most.multiplexes(name) for name in ("reviews", "legacy", "other")] == [
        True,
        False,
        True,
    ]
