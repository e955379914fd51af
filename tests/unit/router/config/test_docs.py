"""The README's `router.yaml` reference is the one the model writes."""

from pathlib import Path

from router.config.docs import COMMAND, END, START, rewrite

README = Path(__file__).resolve().parents[4] / "README.md"


def test_the_readme_reference_is_current() -> None:
    current = README.read_text()
    assert rewrite(current) == current, (
        f"the README's router.yaml reference is stale: run `{COMMAND}`"
    )


def test_the_reference_names_every_key_and_what_apollo_keys_are_refused() -> None:
    text = rewrite(f"before\n{START}\n{END}\nafter\n")
    assert text.startswith("before\n")
    assert text.endswith("\nafter\n")
    for key in ("supergraph.listen", "limits.max_depth", "traffic_shaping.all.timeout"):
        assert f"| `{key}` |" in text
    assert "| `limits.request_head_timeout` | duration | `10s` |" in text
    assert "`coprocessor`" in text
    assert "`apq.subgraph`" in text
