"""Prometheus: the ``prometheus`` binary (Debian's package) as a child, on a loopback port,
with its configuration (``lms.monitoring`` writes it) and time series in its state folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import yaml

from common.infra.ports import LOOPBACK
from common.infra.process import find_binary
from common.infra.server import Server


class PrometheusServer(Server):
    name = "Prometheus"
    slug = "prometheus"

    def __init__(self, state_dir: Path, port: int, config: dict[str, Any]) -> None:
        super().__init__(state_dir, port)
        self.config = config

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.state_dir / "prometheus.yml"

    def _prepare(self) -> None:
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))

    def _command(self) -> list[str]:
        return [
            find_binary("prometheus"),
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.state_dir / 'data'}",
            f"--web.listen-address={LOOPBACK}:{self.port}",
            "--web.enable-lifecycle",
        ]

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=1.0).status_code == httpx.codes.OK
        except httpx.HTTPError:
            return False
