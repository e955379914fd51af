"""`lms compose`: config errors and composition errors are reported completely, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms.cli import main
from lms.compose import ComposeError, load_config, write_schema

PRODUCTS = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { product(id: ID!): Product }
type Product @key(fields: "id") { id: ID! name: String! }
"""
REVIEWS = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Product @key(fields: "id") { id: ID! reviews: [String!]! }
"""
CONFLICTING = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { top: Int }
type Product @key(fields: "id") { id: ID! name: Int! }
"""


def _config(tmp_path: Path, *subgraphs: tuple[str, str]) -> Path:
    lines = ["subgraphs:"]
    for name, sdl in subgraphs:
        (tmp_path / f"{name}.graphql").write_text(sdl)
        lines += [
            f"  {name}:",
            f"    routing_url: http://{name}.internal/graphql",
            "    schema:",
            f"      file: {name}.graphql",
        ]
    path = tmp_path / "supergraph.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_files_compose_into_a_supergraph(tmp_path: Path) -> None:
    config = _config(tmp_path, ("products", PRODUCTS), ("reviews", REVIEWS))
    out = tmp_path / "out"
    write_schema(config, out / "supergraph.graphql", out / "subgraphs")
    supergraph = (out / "supergraph.graphql").read_text()
    assert 'PRODUCTS @join__graph(name: "products", url: "http://products.internal/graphql")' in (
        supergraph
    )
    assert "reviews: [String!]! @join__field(graph: REVIEWS)" in supergraph
    assert sorted(p.name for p in (out / "subgraphs").iterdir()) == [
        "products.graphql",
        "reviews.graphql",
    ]


def test_every_composition_error_is_reported_and_nothing_written(tmp_path: Path) -> None:
    config = _config(tmp_path, ("products", PRODUCTS), ("catalog", CONFLICTING))
    out = tmp_path / "out"
    with pytest.raises(ComposeError) as raised:
        write_schema(config, out / "supergraph.graphql", out / "subgraphs")
    message = str(raised.value)
    assert "Product.name" in message
    assert "FIELD_TYPE_MISMATCH" in message
    assert "INVALID_FIELD_SHARING" in message
    assert not out.exists()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("subgraphs: {}\n", "non-empty 'subgraphs'"),
        ("subgraphs:\n  a:\n    schema:\n      code: true\n", "routing_url"),
        ("subgraphs:\n  a:\n    routing_url: http://a\n    schema: {}\n", "exactly one"),
        ("subgraphs:\n  a:\n    routing_url: http://a\n    schema:\n      ftp: x\n", "unknown"),
        ("subgraphs: [unclosed\n", "cannot read"),
    ],
)
def test_bad_config_is_explained(tmp_path: Path, text: str, complaint: str) -> None:
    path = tmp_path / "supergraph.yaml"
    path.write_text(text)
    with pytest.raises(ComposeError, match=complaint):
        load_config(path)


def test_missing_sdl_file_is_named(tmp_path: Path) -> None:
    config = _config(tmp_path, ("products", PRODUCTS))
    (tmp_path / "products.graphql").unlink()
    with pytest.raises(ComposeError, match=r"products.*cannot read"):
        write_schema(config, tmp_path / "s.graphql", tmp_path / "subgraphs")


def test_command_exits_non_zero_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, ("products", PRODUCTS), ("catalog", CONFLICTING))
    monkeypatch.setattr("lms.compose.CONFIG_PATH", config)
    monkeypatch.setattr("lms.compose.write_schema", lambda: write_schema(config))
    assert main(["compose"]) == 1
    assert "composition failed" in capsys.readouterr().err
