"""Persisted query safelisting (`persisted_queries:`) from a manifest that
`router persisted-queries manifest` writes from a folder of operations."""

import hashlib
import json
import logging
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from router.cli import main
from router.config import RouterConfig
from router.policies.manifest import FORMAT, ManifestError
from router.server import create_app
from tests.configured_router import configured_router, subgraphs_served
from tests.integration.router.conftest import SUPERGRAPH
from tests.integration.router.subgraphs import Subgraph
from tests.router_process import router_process
from tests.support import error_codes, eventually

TOP = "query Top { topProduct { ...Named } }\nfragment Named on Product { name price }"
TOP_DATA = {"topProduct": {"name": "Chair", "price": 10}}
# the same operation as a client may write it: other spacing, commas, a comment, and the
# fragment first
TOP_REWRITTEN = "# top\nfragment Named on Product{name,price}\n\nquery Top{topProduct{...Named}}"
FIELDS_SWAPPED = "query Top { topProduct { ...Named } }\nfragment Named on Product { price name }"
CREATE = "mutation Create($name: String!) { createProduct(name: $name) { id } }"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lms", "router", "persisted-queries", *args],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def manifest(tmp_path: Path) -> dict[str, Any]:
    folder = tmp_path / "operations"
    (folder / "nested").mkdir(parents=True)
    (folder / "top.graphql").write_text(TOP)
    (folder / "nested" / "create.graphql").write_text(CREATE)
    written = _cli("manifest", str(folder), "-o", str(tmp_path / "manifest.json"))
    assert written.returncode == 0, written.stderr
    manifest: dict[str, Any] = json.loads((tmp_path / "manifest.json").read_text())
    return manifest


def _ids(manifest: dict[str, Any]) -> dict[str, str]:
    return {operation["name"]: operation["id"] for operation in manifest["operations"]}


def test_the_manifest_lists_each_operation_with_its_fragments_by_sha256(
    manifest: dict[str, Any],
) -> None:
    assert manifest["format"] == "apollo-persisted-query-manifest"
    assert manifest["version"] == 1
    create, top = manifest["operations"]
    assert (create["name"], create["type"], top["name"], top["type"]) == (
        "Create",
        "mutation",
        "Top",
        "query",
    )
    assert top["body"] == (
        "query Top {\n  topProduct {\n    ...Named\n  }\n}\n\n"
        "fragment Named on Product {\n  name\n  price\n}"
    )
    assert top["id"] == hashlib.sha256(top["body"].encode()).hexdigest()


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({}, "no operation in any .graphql file"),
        (
            {"a.graphql": "query Same { a }", "b.graphql": "query Same { b }"},
            "a second operation named 'Same'",
        ),
        (
            {"a.graphql": "type Query { a: Int }"},
            "holds a object type definition, not an operation",
        ),
        ({"a.graphql": "query { a }"}, "an operation without a name"),
        ({"a.graphql": "query Broken { a "}, "Syntax Error"),
        ({"a.graphql": "query Q { ...Missing }"}, "unknown fragment 'Missing'"),
    ],
)
def test_the_cli_refuses_a_bad_folder_in_one_line(
    tmp_path: Path, files: dict[str, str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "operations"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    code = main(["persisted-queries", "manifest", str(folder), "-o", str(tmp_path / "m.json")])
    stderr = capsys.readouterr().err
    assert code == 2
    assert stderr.count("\n") == 1
    assert stderr.startswith("error: ")
    assert problem in stderr
    assert not (tmp_path / "m.json").exists()


def test_the_cli_refuses_a_missing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"
    code = main(["persisted-queries", "manifest", str(missing), "-o", str(tmp_path / "m.json")])
    assert (code, capsys.readouterr().err) == (2, f"error: {missing}: not a folder\n")


def _config(manifest_file: Path, **options: Any) -> dict[str, Any]:
    return {
        "apq": {"enabled": False},
        "persisted_queries": {"enabled": True, "local_manifests": [str(manifest_file)], **options},
    }


@pytest.fixture
async def urls(subgraphs: dict[str, Subgraph]) -> AsyncIterator[dict[str, str]]:
    async with subgraphs_served(subgraphs) as served:
        yield served


@pytest.fixture
def manifest_file(tmp_path: Path, manifest: dict[str, Any]) -> Path:
    return tmp_path / "manifest.json"


def _by_id(identifier: str) -> dict[str, Any]:
    return {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": identifier}}}


async def test_the_safelist_runs_listed_operations_by_id_or_body_and_refuses_others(
    urls: dict[str, str], manifest_file: Path, manifest: dict[str, Any]
) -> None:
    config = _config(manifest_file, safelist={"enabled": True})
    async with configured_router(config, urls) as url, httpx.AsyncClient(base_url=url) as client:
        by_id = await client.post("/graphql", json=_by_id(_ids(manifest)["Top"]))
        assert by_id.json() == {"data": TOP_DATA}
        for body in (TOP, TOP_REWRITTEN):
            listed = await client.post("/graphql", json={"query": body})
            assert listed.json() == {"data": TOP_DATA}
        for body in (FIELDS_SWAPPED, "{ products { id } }", "query {"):
            refused = await client.post("/graphql", json={"query": body})
            assert refused.status_code == 403
            assert error_codes(refused.json()) == ["QUERY_NOT_IN_SAFELIST"]
        unknown = await client.post("/graphql", json=_by_id("0" * 64))
        assert unknown.status_code == 404
        assert error_codes(unknown.json()) == ["PERSISTED_QUERY_NOT_IN_LIST"]
        both = await client.post("/graphql", json={"query": TOP, **_by_id(_ids(manifest)["Top"])})
        assert error_codes(both.json()) == ["CANNOT_SEND_PQ_ID_AND_BODY"]
        created = await client.post(
            "/graphql", json={"variables": {"name": "Lamp"}, **_by_id(_ids(manifest)["Create"])}
        )
        assert created.json() == {"data": {"createProduct": {"id": "new1"}}}


async def test_require_id_refuses_even_listed_bodies(
    urls: dict[str, str], manifest_file: Path, manifest: dict[str, Any]
) -> None:
    config = _config(manifest_file, safelist={"enabled": True, "require_id": True})
    async with configured_router(config, urls) as url, httpx.AsyncClient(base_url=url) as client:
        refused = await client.post("/graphql", json={"query": TOP})
        assert refused.status_code == 400
        assert error_codes(refused.json()) == ["PERSISTED_QUERY_ID_REQUIRED"]
        by_id = await client.get(
            "/graphql",
            params={"extensions": json.dumps(_by_id(_ids(manifest)["Top"])["extensions"])},
        )
        assert by_id.json() == {"data": TOP_DATA}


async def test_log_unknown_names_and_hashes_unknown_operations_never_their_variables(
    urls: dict[str, str], manifest_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = _config(manifest_file, log_unknown=True)
    unknown = "query Secretive($id: ID!) { product(id: $id) { name } }"
    async with configured_router(config, urls) as url, httpx.AsyncClient(base_url=url) as client:
        with caplog.at_level(logging.WARNING, logger="router"):
            listed = await client.post("/graphql", json={"query": TOP})
            answered = await client.post(
                "/graphql", json={"query": unknown, "variables": {"id": "p2-secret-value"}}
            )
    assert listed.json() == {"data": TOP_DATA}
    assert answered.json() == {"data": {"product": None}}  # allowed: the safelist is off
    # (the access lines, INFO, are written in a batch, after the router stops)
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    digest = hashlib.sha256(unknown.encode()).hexdigest()
    assert lines == [f"unknown operation Secretive (sha256 {digest}) allowed"]
    assert "p2-secret-value" not in caplog.text


def test_a_manifest_that_cannot_be_read_stops_the_router_with_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "manifest.json"
    bad.write_text('{"format": "something-else", "version": 1, "operations": []}')
    config = RouterConfig.model_validate(_config(bad))
    with pytest.raises(ManifestError, match=f"^{bad}: not a persisted query manifest"):
        create_app(SUPERGRAPH, config=config)
    with pytest.raises(ManifestError, match="No such file"):
        create_app(SUPERGRAPH, config=RouterConfig.model_validate(_config(tmp_path / "none")))


async def test_a_reloaded_configuration_reads_its_manifests_again(
    tmp_path: Path, manifest_file: Path
) -> None:
    products = {
        "id": "products-v2",
        "name": "Products",
        "type": "query",
        "body": "{ products { id } }",
    }
    more = tmp_path / "more.json"
    more.write_text(json.dumps({"format": FORMAT, "version": 1, "operations": [products]}))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    config = tmp_path / "router.yaml"

    def configure(*manifests: Path) -> None:
        section = _config(manifests[0], safelist={"enabled": True})
        section["persisted_queries"]["local_manifests"] = [str(m) for m in manifests]
        config.write_text(json.dumps(section))

    configure(manifest_file)
    args = ["--config", str(config), "--watch-interval", "0.05"]
    with tempfile.TemporaryFile() as log:
        async with (
            router_process(arguments=args, watch=True, stderr=log) as url,
            httpx.AsyncClient(base_url=url) as client,
        ):

            async def by_id() -> dict[str, Any]:
                body: dict[str, Any] = (
                    await client.post("/graphql", json=_by_id("products-v2"))
                ).json()
                return body

            assert error_codes(await by_id()) == ["PERSISTED_QUERY_NOT_IN_LIST"]
            configure(manifest_file, more)

            async def listed() -> bool:
                return "errors" not in await by_id()

            await eventually(listed)
            configure(broken)

            def refusal() -> dict[str, Any] | None:
                log.seek(0)
                lines = [json.loads(line) for line in log.read().splitlines() if line[:1] == b"{"]
                return next((line for line in lines if "refused" in line["message"]), None)

            refused = await eventually(refusal)
            assert any(str(broken) in problem for problem in refused["errors"])
            assert (await by_id())["data"] == {"products": [{"id": "p1"}, {"id": "p2"}]}
