"""The shape every server shares: a child process with its state, config and log in a folder."""

from __future__ import annotations

import abc
import atexit
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self

from common.infra.errors import ServerStartError
from common.infra.ports import LOOPBACK, is_listening
from common.infra.process import end_process, wait_until


class Server(abc.ABC):
    """One server on ``127.0.0.1:port``; ``start()`` returns once a client can log in."""

    name: ClassVar[str]
    slug: ClassVar[str]
    startup_timeout: ClassVar[float] = 30.0
    shutdown_timeout: ClassVar[float] = 30.0

    def __init__(self, state_dir: Path, port: int) -> None:
        self.state_dir = Path(state_dir).absolute()
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None
        self._ready = False

    @property
    @abc.abstractmethod
    def url(self) -> str: ...

    @property
    def log_path(self) -> Path:
        return self.state_dir / f"{self.slug}.log"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {LOOPBACK}:{self.port} pid={self.pid} {self.state_dir}>"

    def start(self) -> None:
        """Start and wait until healthy; a no-op while running."""
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the process without waiting (see ``start_all``); a no-op while running."""
        if self.running:
            return
        self.stop()
        if is_listening(self.port):
            raise ServerStartError(self._title(), "the port is already in use by another process")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._prepare()
            with self.log_path.open("ab") as log:
                self._process = subprocess.Popen(
                    self._command(),
                    env=self._environment(),
                    cwd=self.state_dir,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        except BaseException:
            self._release()
            raise
        _running.add(self)

    def wait_ready(self) -> None:
        """Wait until a real client logs in; on failure stop and raise ``ServerStartError``."""
        if self._ready:
            return
        try:
            wait_until(self._probe, self.startup_timeout, self._title(), self.log_path)
        except BaseException:
            self.stop()
            raise
        self._ready = True

    def stop(self) -> None:
        """Shut down cleanly, wait for exit, kill what is left; safe to call at any time."""
        process, self._process, self._ready = self._process, None, False
        if process is not None:
            end_process(process, self.shutdown_timeout, self._request_shutdown)
        self._release()
        _running.discard(self)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _title(self) -> str:
        return f"{self.name} on {LOOPBACK}:{self.port}"

    def _probe(self) -> bool:
        if self._process is None:
            raise ServerStartError(self._title(), "not launched", self.log_path)
        code = self._process.poll()
        if code is not None:
            raise ServerStartError(self._title(), f"exited with code {code}", self.log_path)
        return self._healthy()

    def _prepare(self) -> None:  # noqa: B027 - optional hook
        """Write config and initialise state before the process starts."""

    @abc.abstractmethod
    def _command(self) -> list[str]: ...

    def _environment(self) -> Mapping[str, str] | None:
        return None

    @abc.abstractmethod
    def _healthy(self) -> bool:
        """True when a real client has just logged in."""

    def _request_shutdown(self, process: subprocess.Popen[bytes]) -> None:
        process.terminate()

    def _release(self) -> None:  # noqa: B027 - optional hook
        """Free what ``_prepare`` acquired; called after every stop and failed launch."""


def start_all(servers: Iterable[Server]) -> None:
    """Launch every server, then wait for each: startup overlaps. On failure, stop them all."""
    launched: list[Server] = []
    try:
        for server in servers:
            server.launch()
            launched.append(server)
        for server in launched:
            server.wait_ready()
    except BaseException:
        for server in reversed(launched):
            server.stop()
        raise


_running: set[Server] = set()


@atexit.register
def _stop_running() -> None:
    for server in list(_running):
        server.stop()
