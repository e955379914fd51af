"""RabbitMQ: ``rabbitmq-server`` as a child, with its own node name, epmd, cookie and state."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import ClassVar

from common.infra.amqp import can_log_in
from common.infra.ports import LOOPBACK, free_port, is_listening
from common.infra.process import clean_env, end_process, find_binary, run_logged, wait_until
from common.infra.server import Server

BIN_DIRS = ("/usr/lib/rabbitmq/bin", "/usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin")
ERLANG_BIN_DIRS = ("/usr/lib/erlang/erts-*/bin",)
USER = PASSWORD = "guest"  # RabbitMQ's default user, allowed from loopback only
LOOPBACK_ERLANG = "{127,0,0,1}"


class RabbitMQServer(Server):
    """The node is ``lms<port>@localhost``; it registers with a private epmd started here.

    ``dist_port`` (Erlang distribution) and ``epmd_port`` default to free ports (0 = pick one).

    ``HOME`` is the state folder, so the Erlang cookie lives there and is shared with
    ``rabbitmqctl``; distribution (the node's and epmd's) listens on loopback only.
    """

    name = "RabbitMQ"
    slug = "rabbitmq"
    startup_timeout: ClassVar[float] = 90.0

    def __init__(
        self, state_dir: Path, port: int, *, dist_port: int = 0, epmd_port: int = 0
    ) -> None:
        super().__init__(state_dir, port)
        self.dist_port = dist_port or free_port()
        self.epmd_port = epmd_port or free_port()
        self._epmd: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://{USER}:{PASSWORD}@{LOOPBACK}:{self.port}/"

    @property
    def node(self) -> str:
        return f"lms{self.port}@localhost"

    def _prepare(self) -> None:
        (self.state_dir / "enabled_plugins").write_text("[].\n")
        (self.state_dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = {LOOPBACK}:{self.port}\nloopback_users.{USER} = true\n"
        )
        self._start_epmd()

    def _start_epmd(self) -> None:
        """A private epmd, so no daemon outlives us and nodes on other ports are not involved."""
        epmd = [find_binary("epmd", *ERLANG_BIN_DIRS), "-port", str(self.epmd_port)]
        with self.log_path.open("ab") as log:
            self._epmd = subprocess.Popen(
                [*epmd, "-address", LOOPBACK],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(lambda: is_listening(self.epmd_port), 10, f"epmd for {self._title()}")

    def _command(self) -> list[str]:
        return [find_binary("rabbitmq-server", *BIN_DIRS)]

    def _environment(self) -> dict[str, str]:
        state = self.state_dir
        return clean_env(
            ["RABBITMQ_", "ERL_"],
            HOME=str(state),
            ERL_EPMD_PORT=str(self.epmd_port),
            ERL_EPMD_ADDRESS=LOOPBACK,
            ERL_FLAGS=f"-kernel inet_dist_use_interface {LOOPBACK_ERLANG}",
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_IP_ADDRESS=LOOPBACK,
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_MNESIA_BASE=str(state / "mnesia"),
            RABBITMQ_LOG_BASE=str(state / "log"),
            RABBITMQ_LOGS="-",
            RABBITMQ_CONFIG_FILE=str(state / "rabbitmq.conf"),
            RABBITMQ_ADVANCED_CONFIG_FILE=str(state / "advanced.config"),
            RABBITMQ_CONF_ENV_FILE=str(state / "rabbitmq-env.conf"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(state / "enabled_plugins"),
            RABBITMQ_PID_FILE=str(state / "rabbitmq.pid"),
        )

    def _healthy(self) -> bool:
        return can_log_in(LOOPBACK, self.port, USER, PASSWORD)

    def _request_shutdown(self, process: subprocess.Popen[bytes]) -> None:
        stop = [find_binary("rabbitmqctl", *BIN_DIRS), "--node", self.node, "stop"]
        code = run_logged(stop, self.log_path, self._environment(), self.state_dir, 30)
        if code != 0:
            process.terminate()

    def _release(self) -> None:
        epmd, self._epmd = self._epmd, None
        if epmd is not None:
            end_process(epmd, 5)
