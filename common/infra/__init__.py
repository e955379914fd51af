"""Real PostgreSQL, Redis and RabbitMQ servers, run from local binaries for dev and tests.

Each server is a child process on a loopback port with its state, config and log in one
folder: ``start()`` waits until a real client can log in, ``stop()`` leaves nothing behind.
"""

from common.infra.errors import ServerStartError
from common.infra.server import Server, start_all

__all__ = ["Server", "ServerStartError", "start_all"]
