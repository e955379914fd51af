"""Real PostgreSQL, Redis and RabbitMQ from local binaries: start, use, stop, leave nothing.

The three servers start once for the module, side by side (``start_all``); the last test
stops them, so it must stay last.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import asyncpg
import pytest
import redis

from common.infra import Server, ServerStartError, start_all
from common.infra.ports import LOOPBACK, free_port, is_port_free
from common.infra.postgres import PostgresServer
from common.infra.rabbitmq import RabbitMQServer
from common.infra.redis import RedisServer

PASSWORD = "infra-test-password"
NAMES = ["postgres", "redis", "rabbitmq"]


@dataclass(frozen=True)
class Servers:
    postgres: PostgresServer
    redis: RedisServer
    rabbitmq: RabbitMQServer

    def named(self, name: str) -> Server:
        server: Server = getattr(self, name)
        return server


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    base = tmp_path_factory.mktemp("infra")
    servers = Servers(
        PostgresServer(base / "postgres", free_port(), password=PASSWORD, fast=True),
        RedisServer(base / "redis", free_port(), fast=True),
        RabbitMQServer(base / "rabbitmq", free_port()),
    )
    everything = [servers.postgres, servers.redis, servers.rabbitmq]
    start_all(everything)
    yield servers
    for server in everything:
        server.stop()


async def test_postgres_answers_sql_as_the_superuser(servers: Servers) -> None:
    connection = await asyncpg.connect(servers.postgres.dsn)
    try:
        await connection.execute("create temporary table notes (body text)")
        await connection.execute("insert into notes values ($1)", "hello")
        assert await connection.fetchval("select body from notes") == "hello"
        assert await connection.fetchval("select current_user") == "postgres"
        assert await connection.fetchval("show fsync") == "off"
    finally:
        await connection.close()


def test_redis_sets_and_gets(servers: Servers) -> None:
    with redis.Redis.from_url(servers.redis.url) as client:
        client.set("greeting", "hello")
        assert client.get("greeting") == b"hello"


async def test_rabbitmq_delivers_a_published_message(servers: Servers) -> None:
    connection = await aio_pika.connect(servers.rabbitmq.url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True)
        await channel.default_exchange.publish(aio_pika.Message(b"hello"), queue.name)
        message = await queue.get(timeout=5)
        await message.ack()
    assert message.body == b"hello"


def test_urls_point_at_loopback_ports(servers: Servers) -> None:
    postgres, redis_server, rabbitmq = servers.postgres, servers.redis, servers.rabbitmq
    assert postgres.dsn == f"postgresql://postgres:{PASSWORD}@{LOOPBACK}:{postgres.port}/postgres"
    assert redis_server.url == f"redis://{LOOPBACK}:{redis_server.port}/0"
    assert rabbitmq.url == f"amqp://guest:guest@{LOOPBACK}:{rabbitmq.port}/"


@pytest.mark.parametrize("name", NAMES)
def test_a_second_start_is_a_no_op(servers: Servers, name: str) -> None:
    server = servers.named(name)
    pid = server.pid
    server.start()
    assert server.running
    assert server.pid == pid


@pytest.mark.parametrize(
    "make",
    [
        lambda state, port: RedisServer(state, port),
        lambda state, port: PostgresServer(state, port, password=PASSWORD),
        lambda state, port: RabbitMQServer(state, port),
    ],
    ids=["redis", "postgres", "rabbitmq"],
)
def test_a_taken_port_fails_the_start_naming_the_server(
    tmp_path: Path, make: Callable[[Path, int], Server]
) -> None:
    with socket.socket() as squatter:
        squatter.bind((LOOPBACK, 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        server = make(tmp_path / "state", port)
        with pytest.raises(ServerStartError, match=f"^{server.name} on {LOOPBACK}:{port} "):
            server.start()
    assert not server.running


def test_a_server_that_exits_fails_the_start_quoting_its_log(tmp_path: Path) -> None:
    server = PostgresServer(tmp_path / "state", free_port(), password=PASSWORD, max_connections=-1)
    with pytest.raises(ServerStartError, match="exited with code") as failure:
        server.start()
    assert "-1 is outside the valid range" in str(failure.value)
    assert not server.running
    assert server.pid is None


def test_stop_leaves_nothing_behind(servers: Servers) -> None:
    rabbitmq = servers.rabbitmq
    private_ports = [rabbitmq.epmd_port, rabbitmq.dist_port]
    for name in NAMES:
        server = servers.named(name)
        pid = server.pid
        assert pid is not None
        server.stop()
        server.stop()
        assert not server.running
        assert live_processes_in_group(pid) == []
        assert is_port_free(server.port)
    assert all(is_port_free(port) for port in private_ports)


def live_processes_in_group(group: int) -> list[int]:
    """Pids in process group ``group`` that are not zombies (Linux ``/proc``)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state != "Z":
            found.append(int(stat.parent.name))
    return found
