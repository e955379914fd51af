"""Redis: ``redis-server`` as a child with a generated config, on a loopback port."""

from __future__ import annotations

from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from common.infra.ports import LOOPBACK
from common.infra.process import find_binary
from common.infra.server import Server

SNAPSHOTS = "3600 1 300 100 60 10000"  # Redis's default RDB save points


class RedisServer(Server):
    name = "Redis"
    slug = "redis"

    def __init__(self, state_dir: Path, port: int, *, fast: bool = False) -> None:
        super().__init__(state_dir, port)
        self.fast = fast

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    @property
    def config_path(self) -> Path:
        return self.state_dir / "redis.conf"

    def _prepare(self) -> None:
        settings = {
            "bind": LOOPBACK,
            "port": str(self.port),
            "protected-mode": "yes",  # only refuses non-loopback clients; we bind loopback only
            "daemonize": "no",
            "supervised": "no",
            "dir": f'"{self.state_dir}"',
            "logfile": '""',
            "save": '""' if self.fast else SNAPSHOTS,
            "appendonly": "no",
        }
        self.config_path.write_text("".join(f"{key} {value}\n" for key, value in settings.items()))

    def _command(self) -> list[str]:
        return [find_binary("redis-server"), str(self.config_path)]

    def _healthy(self) -> bool:
        try:
            with redis.Redis(
                host=LOOPBACK, port=self.port, socket_timeout=1, retry=Retry(NoBackoff(), 0)
            ) as client:
                server = client.info("server")
        except (redis.RedisError, OSError):
            return False
        return bool(server["process_id"] == self.pid)
