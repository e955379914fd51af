"""The redis package (about 8 MB of a router's memory, bench/README.md) is imported only by a
router whose `router.yaml` gives it a Redis: the APQ or entity cache's shared layer, or
distributed rate limits. Each case in a fresh interpreter, which builds the router's app."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SUPERGRAPH = ROOT / "schema" / "supergraph.graphql"

BUILD = """
import json, sys
from pathlib import Path
from router.config import parse_config
from router.server.app import create_app
config = parse_config(sys.argv[2], environ={})
create_app(Path(sys.argv[1]).read_text(), config=config)
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & {"redis"})))
"""

APQ = """
apq:
  router:
    cache:
      redis: {urls: ["redis://127.0.0.1:1/0"], ttl: 1h}
"""
RATE_LIMITS = """
rate_limit:
  redis: {url: "redis://127.0.0.1:1/0"}
"""


def _loaded(config: str) -> list[str]:
    built = subprocess.run(
        [sys.executable, "-c", BUILD, str(SUPERGRAPH), config],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: list[str] = json.loads(built.stdout.splitlines()[-1])
    return loaded


def test_a_router_without_redis_does_not_import_it() -> None:
    assert _loaded("") == []


@pytest.mark.parametrize("config", [APQ, RATE_LIMITS], ids=["apq", "rate-limits"])
def test_a_router_given_a_redis_imports_it(config: str) -> None:
    assert _loaded(config) == ["redis"]
