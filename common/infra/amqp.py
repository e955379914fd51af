"""Just enough AMQP 0-9-1 to log in and out: proof that a broker serves clients."""

from __future__ import annotations

import socket
import struct

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
FRAME_METHOD = 1
FRAME_END = b"\xce"
CONNECTION = 10
START, START_OK, TUNE, TUNE_OK, OPEN, OPEN_OK, CLOSE = 10, 11, 30, 31, 40, 41, 50
REPLY_SUCCESS = 200


def can_log_in(
    host: str, port: int, user: str, password: str, vhost: str = "/", timeout: float = 2.0
) -> bool:
    """True when ``user`` opens a connection to ``vhost`` (PLAIN login), then closes it."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            return _handshake(connection, user, password, vhost)
    except (OSError, struct.error, ValueError):
        return False


def _handshake(connection: socket.socket, user: str, password: str, vhost: str) -> bool:
    connection.sendall(PROTOCOL_HEADER)
    _expect(connection, START)
    response = f"\0{user}\0{password}".encode()
    start_ok = struct.pack(">I", 0) + _short("PLAIN") + _long(response) + _short("en_US")
    _send(connection, START_OK, start_ok)
    channel_max, frame_max, _heartbeat = struct.unpack(">HIH", _expect(connection, TUNE)[:8])
    _send(connection, TUNE_OK, struct.pack(">HIH", channel_max, frame_max, 0))
    _send(connection, OPEN, _short(vhost) + _short("") + b"\x00")
    _expect(connection, OPEN_OK)
    _send(connection, CLOSE, struct.pack(">H", REPLY_SUCCESS) + _short("") + bytes(4))
    return True


def _short(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">B", len(data)) + data


def _long(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _send(connection: socket.socket, method: int, arguments: bytes) -> None:
    payload = struct.pack(">HH", CONNECTION, method) + arguments
    connection.sendall(struct.pack(">BHI", FRAME_METHOD, 0, len(payload)) + payload + FRAME_END)


def _expect(connection: socket.socket, method: int) -> bytes:
    """The arguments of the next frame, which must be connection method ``method``."""
    kind, _channel, size = struct.unpack(">BHI", _read(connection, 7))
    body = _read(connection, size + 1)
    class_id, method_id = struct.unpack(">HH", body[:4])
    if kind != FRAME_METHOD or (class_id, method_id) != (CONNECTION, method):
        raise ValueError(f"expected connection method {method}, got {class_id}.{method_id}")
    return body[4:-1]


def _read(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise ValueError("connection closed by the broker")
        data += chunk
    return data
