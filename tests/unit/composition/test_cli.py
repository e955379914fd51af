"""`python -m router.composition` composes SDL files into a supergraph file."""

from pathlib import Path

import pytest

from router.composition.__main__ import main

from .support import FIXTURES, expected_supergraph


def test_writes_the_supergraph(tmp_path: Path) -> None:
    out = tmp_path / "supergraph.graphql"
    fixture = FIXTURES / "peer_bench"
    args = [
        arg
        for name in ("accounts", "inventory", "products", "reviews")
        for arg in (
            "--subgraph",
            name,
            f"http://127.0.0.1:4200/{name}",
            str(fixture / f"{name}.graphql"),
        )
    ]
    assert main([*args, "--out", str(out)]) == 0
    assert out.read_text() == expected_supergraph("peer_bench")


def test_reports_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sdl = tmp_path / "a.graphql"
    sdl.write_text('type Query { t: T } type T @key(fields: "nope") { id: ID! }')
    assert main(["--subgraph", "a", "http://a", str(sdl)]) == 1
    assert "KEY_INVALID_FIELDS [a]" in capsys.readouterr().err
