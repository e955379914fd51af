"""`router.yaml` as read by `router.config.loader`: what it expands, and the one line each
problem gets (the file, the key path, what is expected, what was found)."""

from pathlib import Path

import pytest

from router.config import ConfigError, RouterConfig, load_config, parse_config
from router.config.apollo import UNSUPPORTED
from router.config.fields import keys_at


def _problems(text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as refused:
        parse_config(text, "r.yaml", environ=environ or {})
    assert "Traceback" not in str(refused.value)
    return list(refused.value.problems)


def test_an_empty_file_is_every_default() -> None:
    assert parse_config("", environ={}) == RouterConfig()
    assert parse_config("# only a comment\n", environ={}) == RouterConfig()


def test_a_file_sets_the_keys_it_names() -> None:
    config = parse_config(
        "limits:\n  max_depth: 7\ntraffic_shaping:\n  subgraphs:\n    products:\n"
        "      timeout: 250ms\n",
        environ={},
    )
    assert config.limits.max_depth == 7
    assert config.limits.max_aliases == RouterConfig().limits.max_aliases
    assert config.traffic_shaping.subgraphs["products"].timeout == 0.25


def test_environment_variables_are_expanded_in_values() -> None:
    text = (
        "supergraph:\n  listen: ${env.HOST}:${env.PORT:-4000}\n"
        "limits:\n  max_depth: ${env.DEPTH}\n"
        "health_check:\n  path: ${env.HEALTH:-/alive}\n"
    )
    config = parse_config(text, environ={"HOST": "0.0.0.0", "DEPTH": "9"})
    assert config.supergraph.listen == "0.0.0.0:4000"
    assert config.limits.max_depth == 9  # a text from the environment, checked as a number
    assert config.health_check.path == "/alive"
    set_anyway = parse_config(text, environ={"HOST": "h", "PORT": "5000", "DEPTH": "9"})
    assert set_anyway.supergraph.listen == "h:5000"


def test_an_unset_variable_without_default_is_named() -> None:
    [line] = _problems("supergraph:\n  listen: ${env.ROUTER_LISTEN}\n")
    assert line.startswith("r.yaml: supergraph.listen: environment variable ROUTER_LISTEN")
    assert "is not set" in line


def test_only_env_is_expanded() -> None:
    [line] = _problems("supergraph:\n  path: ${file.secret}\n")
    assert line.startswith("r.yaml: supergraph.path: cannot expand `${file.secret}`")


def test_an_expanded_value_is_shown_as_written_not_as_its_value() -> None:
    [line] = _problems("limits:\n  max_depth: ${env.SECRET}\n", {"SECRET": "hunter2"})
    assert "hunter2" not in line
    assert line == (
        "r.yaml: limits.max_depth: should be a valid integer, unable to parse string as an "
        "integer (got ${env.SECRET})"
    )


def test_an_unknown_key_is_named_with_its_path_and_the_key_it_may_mean() -> None:
    assert _problems("limits:\n  max_dept: 3\n") == [
        "r.yaml: limits.max_dept: unknown key (did you mean `max_depth`?)"
    ]
    assert _problems("traffic_shaping:\n  subgraphs:\n    products:\n      timout: 1s\n") == [
        "r.yaml: traffic_shaping.subgraphs.products.timout: unknown key (did you mean `timeout`?)"
    ]
    assert _problems("bogus: {}\n") == ["r.yaml: bogus: unknown key"]


def test_a_wrong_type_says_what_is_expected_and_what_was_found() -> None:
    assert _problems("limits:\n  max_depth: deep\n") == [
        "r.yaml: limits.max_depth: should be a valid integer, unable to parse string as an "
        "integer (got 'deep')"
    ]
    assert _problems("cors: [a, b]\n") == ["r.yaml: cors: should be a mapping (got a list)"]


def test_a_bad_value_says_what_is_expected() -> None:
    assert _problems("limits:\n  max_depth: 0\n") == [
        "r.yaml: limits.max_depth: should be greater than 0 (got 0)"
    ]
    [listen] = _problems("supergraph:\n  listen: localhost\n")
    assert listen.startswith("r.yaml: supergraph.listen: should be HOST:PORT with a port of")
    assert listen.endswith("(got 'localhost')")


def test_permessage_deflate_is_off_unless_turned_on_and_takes_a_boolean() -> None:
    assert RouterConfig().subscription.permessage_deflate is False
    on = parse_config("subscription:\n  permessage_deflate: true\n", environ={})
    assert on.subscription.permessage_deflate is True
    [line] = _problems("subscription:\n  permessage_deflate: maybe\n")
    assert line.startswith("r.yaml: subscription.permessage_deflate: "), line
    assert "boolean" in line, line


def test_a_bad_duration_names_the_forms_a_duration_takes() -> None:
    [line] = _problems("traffic_shaping:\n  subgraphs:\n    products:\n      timeout: soon\n")
    assert line == (
        "r.yaml: traffic_shaping.subgraphs.products.timeout: a duration is a number of seconds "
        "or a text such as 30s, 500ms, 5m (got 'soon')"
    )


def test_list_items_are_named_by_index() -> None:
    text = "headers:\n  all:\n    request:\n      - insert: {name: x-a, value: a}\n" + (
        "      - insert: {name: 7}\n"
    )
    assert _problems(text) == [
        "r.yaml: headers.all.request[1].insert.name: should be a valid string (got 7)",
        "r.yaml: headers.all.request[1].insert.value: required (missing)",
    ]


def test_every_problem_is_reported_one_line_each() -> None:
    lines = _problems("limits:\n  max_depth: 0\n  max_aliases: many\nbogus: 1\n")
    assert len(lines) == 3
    assert all("\n" not in line and line.startswith("r.yaml: ") for line in lines)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("coprocessor:\n  url: http://c\n", "r.yaml: coprocessor: `coprocessor` is an Apollo"),
        ("rhai: {}\n", "r.yaml: rhai: `rhai` is an Apollo Router key"),
        ("experimental_chaos: {}\n", "r.yaml: experimental_chaos: `experimental_chaos` is an"),
        ("apq:\n  subgraph:\n    all: {enabled: true}\n", "r.yaml: apq.subgraph: `subgraph` is"),
        (
            "traffic_shaping:\n  subgraphs:\n    a:\n      experimental_http2: enable\n",
            "r.yaml: traffic_shaping.subgraphs.a.experimental_http2: `experimental_http2` is",
        ),
        (
            "subscription:\n  mode:\n    passthrough:\n      all: {protocol: graphql_ws}\n",
            "r.yaml: subscription.mode.passthrough.all.protocol: `protocol` is",
        ),
    ],
    ids=["coprocessor", "rhai", "experimental", "nested", "under-a-subgraph-name", "passthrough"],
)
def test_an_apollo_router_key_we_lack_is_named_as_such(text: str, expected: str) -> None:
    [line] = _problems(text)
    assert line.startswith(expected)
    assert "Apollo Router key this router does not support" in line


def test_an_apollo_router_key_we_have_under_another_name_says_which() -> None:
    [line] = _problems("preview_file_uploads:\n  enabled: true\n")
    assert "limits.http_max_request_bytes" in line
    [line] = _problems("tls:\n  supergraph: {}\n")
    assert "terminate TLS in front of the router" in line


def test_yaml_syntax_errors_give_line_and_column() -> None:
    [line] = _problems("limits:\n  max_depth: [1\n")
    assert line.startswith("r.yaml: line 3, column 1: ")


def test_a_key_written_twice_is_refused() -> None:
    assert _problems("limits:\n  max_depth: 1\n  max_depth: 2\n") == [
        "r.yaml: line 3, column 3: key `max_depth` is written twice"
    ]


@pytest.mark.parametrize(("text", "found"), [("- a\n", "a list"), ("42\n", "int 42")])
def test_a_file_that_is_not_a_mapping_is_refused(text: str, found: str) -> None:
    assert _problems(text) == [f"r.yaml: should be a mapping of sections (got {found})"]


def test_overrides_win_over_the_file() -> None:
    config = parse_config(
        "limits:\n  max_depth: 3\n  max_aliases: 4\n",
        environ={},
        overrides={"limits": {"max_depth": 5}},
    )
    assert (config.limits.max_depth, config.limits.max_aliases) == (5, 4)


def test_a_file_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as missing:
        load_config(tmp_path / "nope.yaml")
    assert missing.value.problems == (
        f"{tmp_path / 'nope.yaml'}: cannot read: No such file or directory",
    )
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError) as undecodable:
        load_config(binary)
    assert undecodable.value.problems == (f"{binary}: cannot read: not UTF-8 text",)


def test_a_problem_with_an_override_names_the_command_line() -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(
            "limits:\n  max_aliases: none\n",
            "r.yaml",
            environ={},
            overrides={"limits": {"max_depth": 0}},
        )
    assert refused.value.problems == (
        "command line: limits.max_depth: should be greater than 0 (got 0)",
        "r.yaml: limits.max_aliases: should be a valid integer, unable to parse string as an "
        "integer (got 'none')",
    )


def test_no_key_called_unsupported_is_one_the_model_has() -> None:
    """The list of Apollo Router keys we lack (and the README's copy) stays true as sections
    gain keys."""
    for pattern in UNSUPPORTED:
        *parents, key = pattern.split(".")
        for placeholder in (0, "name"):  # `*`: a list item or a map's name
            path = tuple(placeholder if p == "*" else p for p in parents)
            assert key not in keys_at(RouterConfig, path), pattern


def test_apollo_routers_entity_cache_keys_load_and_its_invalidation_endpoint_says_instead() -> None:
    text = (
        "preview_entity_cache:\n  enabled: true\n  subgraph:\n    all:\n"
        "      redis: {urls: ['redis://localhost:6379'], timeout: 5ms}\n      ttl: 60s\n"
        "    subgraphs:\n      accounts: {enabled: false}\n      products: {ttl: 120s}\n"
    )
    cache = parse_config(text, environ={}).preview_entity_cache
    assert cache.subgraph_cache("accounts").enabled is False
    assert (cache.subgraph_cache("products").ttl, cache.subgraph_cache("reviews").ttl) == (
        120.0,
        60.0,
    )
    [line] = _problems("preview_entity_cache:\n  invalidation: {listen: '127.0.0.1:4000'}\n")
    assert line.startswith("r.yaml: preview_entity_cache.invalidation.listen: `listen` is")
    assert "Redis pub/sub" in line
