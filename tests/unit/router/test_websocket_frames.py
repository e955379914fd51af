"""The router's WebSocket server writes a text message's frame itself when it may (open,
no permessage-deflate, writes not paused): the frames must be RFC 6455's, byte for byte what
websockets makes, and read back by a real client as the same text; everything else goes
through uvicorn as before (deflate, close, a send after close)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedOK
from websockets.protocol import State
from websockets.server import ServerProtocol

from common.infra.ports import free_port
from router.server.websocket_protocol import text_frame
from router.subscriptions.protocols import SEND_TEXT_NOW, SendTextNow
from tests.support import eventually, serve

LENGTHS = [0, 1, 125, 126, 127, 65535, 65536, 70000]  # 7-, 16- and 64-bit lengths


def _text(length: int) -> str:
    """``length`` bytes of UTF-8 with two-byte characters in it (when it is even)."""
    return ("é" * (length // 2)) + ("x" * (length % 2))


@pytest.mark.parametrize("length", LENGTHS)
def test_a_text_frame_is_what_websockets_writes(length: int) -> None:
    payload = _text(length).encode()
    assert len(payload) == length
    websockets_server = ServerProtocol()
    websockets_server.state = State.OPEN
    websockets_server.send_text(payload)
    assert text_frame(payload) == b"".join(websockets_server.data_to_send())


class _EchoApp:
    """`now N`: N bytes written through the scope's SEND_TEXT_NOW, or `refused` sent as an
    ASGI message when it declines; `asgi N`: N bytes as an ASGI message; `close`: closes,
    then tries both ways once more (what happened is kept in `after_close`)."""

    def __init__(self) -> None:
        self.after_close: list[Any] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        now: SendTextNow = scope["extensions"][SEND_TEXT_NOW]
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            command, _, length = message["text"].partition(" ")
            if command == "now":
                if not now(_text(int(length)).encode()):
                    await send({"type": "websocket.send", "text": "refused"})
            elif command == "asgi":
                await send({"type": "websocket.send", "text": _text(int(length))})
            elif command == "close":
                await send({"type": "websocket.close", "code": 1000, "reason": "bye"})
                self.after_close.append(now(b"late"))
                try:
                    await send({"type": "websocket.send", "text": "late"})
                except RuntimeError as error:
                    self.after_close.append(type(error))


@pytest.fixture
async def echo() -> AsyncIterator[tuple[str, _EchoApp]]:
    app = _EchoApp()
    async with serve(app, free_port()) as url:
        yield url.replace("http", "ws"), app


@pytest.mark.parametrize("command", ["now", "asgi"])
async def test_texts_of_every_length_arrive_whole_without_deflate(
    command: str, echo: tuple[str, _EchoApp]
) -> None:
    url, _ = echo
    async with connect(url, compression=None, max_size=None) as client:
        for length in LENGTHS:
            await client.send(f"{command} {length}")
            assert await client.recv() == _text(length)


async def test_a_deflate_connection_is_written_by_uvicorn_compressed(
    echo: tuple[str, _EchoApp],
) -> None:
    url, _ = echo
    async with connect(url, compression="deflate", max_size=None) as client:
        assert client.protocol.extensions  # negotiated
        await client.send("now 200")
        assert await client.recv() == "refused"  # declined: nothing written out of turn
        for length in LENGTHS:
            await client.send(f"asgi {length}")
            assert await client.recv() == _text(length)


async def test_nothing_is_written_after_the_close(echo: tuple[str, _EchoApp]) -> None:
    url, app = echo
    async with connect(url, compression=None) as client:
        await client.send("now 10")
        assert await client.recv() == _text(10)
        await client.send("close")
        with pytest.raises(ConnectionClosedOK):
            await client.recv()
        assert client.close_code == 1000
        assert client.close_reason == "bye"
    await eventually(lambda: len(app.after_close) == 2)
    assert app.after_close == [False, RuntimeError]  # as uvicorn refuses a send after close
