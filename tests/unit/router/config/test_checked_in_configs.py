"""Every router.yaml checked in (the platform's, the benchmark's) is one the router takes."""

from pathlib import Path

import pytest

from router.config import RouterConfig, load_config

ROOT = Path(__file__).resolve().parents[4]
FILES = [ROOT / "router.yaml", *sorted((ROOT / "bench" / "configs").glob("*.yaml"))]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_checked_in_config_loads(path: Path) -> None:
    environ = {
        "BENCH_REDIS_URL": "redis://127.0.0.1:6379/0",
        "BENCH_ZIPKIN_URL": "http://127.0.0.1:9412/api/v2/spans",  # (not the default)
    }
    assert load_config(path, environ=environ) != RouterConfig()
