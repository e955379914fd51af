"""`router serve --config router.yaml`: a real router process configured by a file, options
winning over it, a bad file refused in one line per problem, and the file reloaded while the
router serves (a bad change refused, the old configuration serving on)."""

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from router.config import RouterConfig, load_config
from router.config.schema import json_schema
from tests.integration.router.conftest import SUPERGRAPH
from tests.router_process import router_process
from tests.support import error_codes, eventually

ROOT = Path(__file__).resolve().parents[3]
TWO_ALIASES = "{ a: topProduct { name } b: topProduct { name } }"
INTERVAL = "0.05"  # seconds between the router's looks at its files, in these tests


def _router(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "router", *args], capture_output=True, text=True, timeout=60
    )


def _rewrite(path: Path, text: str) -> None:
    path.write_text(text)


async def _post(url: str, query: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as client:
        body: dict[str, Any] = (await client.post(f"{url}/graphql", json={"query": query})).json()
        return body


async def test_the_file_configures_the_router_and_an_option_wins_over_it(
    tmp_path: Path,
) -> None:
    config = tmp_path / "router.yaml"
    config.write_text("limits:\n  max_aliases: 1\n  max_root_fields: 1\n")
    async with router_process(arguments=["--config", str(config)]) as url:
        body = await _post(url, TWO_ALIASES)
        assert error_codes(body) == ["MAX_ALIASES_LIMIT", "MAX_ROOT_FIELDS_LIMIT"]  # the file's
    async with router_process(arguments=["--config", str(config), "--max-aliases", "2"]) as url:
        body = await _post(url, TWO_ALIASES)
        # the option's 2 aliases are allowed; the file's one root field still holds
        assert error_codes(body) == ["MAX_ROOT_FIELDS_LIMIT"]


def test_a_bad_file_is_refused_with_one_line_per_problem(tmp_path: Path) -> None:
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(SUPERGRAPH)
    config = tmp_path / "router.yaml"
    config.write_text("limits:\n  max_depth: deep\ncoprocessor:\n  url: http://c\n")
    done = _router("serve", "--supergraph", str(supergraph), "--config", str(config))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {config}: limits.max_depth: should be a valid integer, unable to parse "
        "string as an integer (got 'deep')",
        f"error: {config}: coprocessor: `coprocessor` is an Apollo Router key this router "
        "does not support",
    ]


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(SUPERGRAPH)
    missing = tmp_path / "nope.yaml"
    done = _router("serve", "--supergraph", str(supergraph), "--config", str(missing))
    assert (done.returncode, done.stderr) == (
        2,
        f"error: {missing}: cannot read: No such file or directory\n",
    )


def test_config_schema_prints_the_json_schema_the_checked_in_file_follows() -> None:
    done = _router("config-schema")
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "router.yaml"
    assert schema["additionalProperties"] is False
    assert {"supergraph", "cors", "traffic_shaping", "limits"} <= set(schema["properties"])
    assert schema == json_schema()  # the schema of the model that validates files
    # (no JSON Schema validator is installed: the model itself checks the file)
    assert isinstance(load_config(ROOT / "router.yaml", environ={}), RouterConfig)


@pytest.fixture
def watched_config(tmp_path: Path) -> Path:
    config = tmp_path / "router.yaml"
    config.write_text("limits:\n  max_aliases: 1\n")
    return config


async def test_a_changed_file_is_served_without_a_restart(watched_config: Path) -> None:
    args = ["--config", str(watched_config), "--watch-interval", INTERVAL]
    async with router_process(arguments=args, watch=True) as url:
        assert error_codes(await _post(url, TWO_ALIASES)) == ["MAX_ALIASES_LIMIT"]
        _rewrite(watched_config, "limits:\n  max_aliases: 2\n")

        async def two_aliases_allowed() -> bool:
            return "errors" not in await _post(url, TWO_ALIASES)

        await eventually(two_aliases_allowed, within=10)
        body = await _post(url, TWO_ALIASES)
        assert body == {"data": {"a": {"name": "Chair"}, "b": {"name": "Chair"}}}


@pytest.mark.parametrize(
    "broken",
    [
        "limits:\n  max_aliases: 0\n",
        "limits: [\n",
        "rhai: {}\n",
        "limits:\n  max_aliases: ${env.NOPE}\n",
    ],
    ids=["bad-value", "not-yaml", "apollo-key", "unset-variable"],
)
async def test_a_broken_file_is_refused_and_the_old_configuration_keeps_serving(
    watched_config: Path, broken: str
) -> None:
    args = ["--config", str(watched_config), "--watch-interval", INTERVAL]
    with tempfile.TemporaryFile() as log:
        async with router_process(arguments=args, watch=True, stderr=log) as url:
            _rewrite(watched_config, broken)

            def refusal() -> dict[str, Any] | None:
                log.seek(0)
                lines = [json.loads(line) for line in log.read().splitlines() if line[:1] == b"{"]
                return next((line for line in lines if "refused" in line["message"]), None)

            refused = await eventually(refusal, within=10)
            assert refused["level"] == "ERROR"
            assert refused["errors"]
            assert all(e.startswith(str(watched_config)) for e in refused["errors"])
            assert "exception" not in refused  # the problems, not a traceback
            assert error_codes(await _post(url, TWO_ALIASES)) == ["MAX_ALIASES_LIMIT"]
            # a good file after the broken one is taken
            _rewrite(watched_config, "limits:\n  max_aliases: 2\n")

            async def two_aliases_allowed() -> bool:
                return "errors" not in await _post(url, TWO_ALIASES)

            await eventually(two_aliases_allowed, within=10)


async def test_a_reload_can_turn_authentication_on(watched_config: Path) -> None:
    args = ["--config", str(watched_config), "--watch-interval", INTERVAL]
    forged = {"authorization": "Bearer not.a.token"}
    query = {"query": "{ topProduct { name } }"}
    async with router_process(arguments=args, watch=True) as url, httpx.AsyncClient() as client:
        assert (await client.post(f"{url}/graphql", json=query, headers=forged)).status_code == 200
        _rewrite(
            watched_config,
            "authentication:\n  router:\n    jwt:\n      jwks:\n"
            "        - {url: 'http://127.0.0.1:9/jwks.json', issuer: 'https://i', audiences: [a]}\n",
        )

        async def refused() -> bool:
            answer = await client.post(f"{url}/graphql", json=query, headers=forged)
            return answer.status_code == 401

        await eventually(refused, within=10)
        answer = await client.post(f"{url}/graphql", json=query, headers=forged)
        assert error_codes(answer.json()) == ["UNAUTHENTICATED"]
        assert (await client.post(f"{url}/graphql", json=query)).status_code == 200  # anonymous
