"""`router serve --workers N`: N processes serving one port, for a machine with more cores
than one Python process can use.

Each worker listens on a socket of its own bound with SO_REUSEPORT (all bound by the
supervisor first), so the kernel spreads new connections among them (no shared accept
queue, no thundering herd). The app is built
once, before the workers are forked: a supergraph or configuration that does not load fails
before anything listens, and what start-up built is shared copy-on-write (frozen out of the
collector's view, so that collections do not touch and copy it). A supervisor (the parent)
starts the workers, starts a new one in place of one that died, and on SIGTERM or SIGINT
passes the signal on and waits for them to finish their requests."""

import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from types import FrameType
from typing import NoReturn

LOG = logging.getLogger("router.workers")
# A worker that dies is replaced after this long (a crash loop stays slow and visible).
RESTART_DELAY_SECONDS = 1.0
BACKLOG = 2048  # uvicorn's
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def reuseport_socket(host: str, port: int) -> socket.socket:
    """A listening socket on host:port that other sockets with SO_REUSEPORT share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def leave_on_stop_signal(_signum: int, _frame: FrameType | None) -> NoReturn:
    """The SIGTERM handler of a serving process outside uvicorn's own. uvicorn installs its
    handlers only once it serves, and on a stop re-raises the signal to the handler it
    replaced after it has shut down gracefully. A stop that arrives during start-up (a
    worker just forked, a pod stopped as it starts) then ends the process at once instead of
    being lost, and one re-raised after the graceful shutdown ends it with status 0."""
    raise SystemExit(0)


class Supervisor:
    """Forks `count` workers, each running `serve` until it returns; replaces one that
    exits while the supervisor is not stopping."""

    def __init__(self, count: int, serve: Callable[[int], None]) -> None:
        self.count = count
        self.serve = serve  # given the worker's number, 0 to count - 1
        self.workers: dict[int, int] = {}  # pid -> worker number
        self.stopping = False

    def _start(self, number: int) -> None:
        # The stop signals wait while a worker is forked and recorded: a stop arriving just
        # after the fork would otherwise miss the worker not yet in `workers` (left running,
        # orphaned when the supervisor exits), or run the supervisor's handler in the child.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            pid = os.fork()
        except BaseException:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
            raise
        if pid != 0:
            self.workers[pid] = number
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)  # a stop runs _stop now
        else:  # the worker
            code = 1
            try:
                signal.signal(signal.SIGTERM, leave_on_stop_signal)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)  # its own handlers now
                self.serve(number)
                code = 0
            except KeyboardInterrupt:
                code = 0
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else 1
            except BaseException:
                LOG.exception("worker %d failed", number)
            finally:
                logging.shutdown()
                os._exit(code)

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True
        for pid in list(self.workers):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def run(self) -> int:
        """Serve until stopped; 0 when every worker finished cleanly after the stop."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for number in range(self.count):
            self._start(number)
        status = 0
        while self.workers:
            try:
                pid, wait_status = os.wait()
            except ChildProcessError:
                break
            number = self.workers.pop(pid, -1)
            if number < 0:  # not a worker
                continue
            code = os.waitstatus_to_exitcode(wait_status)
            if self.stopping:
                status = status or (code if code > 0 else 0)
                continue
            LOG.warning("worker %d (pid %d) exited with %d; starting another", number, pid, code)
            time.sleep(RESTART_DELAY_SECONDS)
            if not self.stopping:
                self._start(number)
        return status
