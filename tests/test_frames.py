"""The direct frame path relies on uvicorn internals: these tests fail when those change."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
from collections.abc import AsyncIterator

import pytest
import uvicorn
import websockets
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from live.outbox import Outgoing
from live.web.frames import LiveWebSocketProtocol, close_frame, frame_writer, framed, text_frame

from .conftest import free_port


def test_the_uvicorn_internals_we_use_are_there() -> None:
    assert "event" in inspect.signature(WebSocketsSansIOProtocol.handle_connect).parameters
    source = inspect.getsource(WebSocketsSansIOProtocol)
    for attribute in ("self.conn = ServerProtocol(", "self.transport = transport", "self.scope: WebSocketScope = {",
                      '"extensions": {"websocket.http.response": {}}', "await self.writable.wait()",
                      "self.request = event", "self.response = self.conn.accept(event)",
                      "self.queue: asyncio.Queue[ASGIReceiveEvent] = asyncio.Queue()"):  # fmt: skip
        assert attribute in source, f"uvicorn changed: {attribute!r} is gone"
    queue_uses = {line.strip().split("(")[0] for line in source.splitlines() if "self.queue." in line}
    assert queue_uses <= {
        "self.queue.put_nowait",
        "message = await self.queue.get",
        "if self.read_paused and self.queue.empty",
    }, queue_uses


def test_frames_are_what_a_websocket_client_expects() -> None:
    assert text_frame("hi") == b"\x81\x02hi"
    assert text_frame("氢") == b"\x81\x03" + "氢".encode()
    assert text_frame("x" * 300)[:4] == b"\x81\x7e\x01\x2c"  # 16-bit length
    assert close_frame(4008) == b"\x88\x02\x0f\xa8"
    message = Outgoing('{"type":"x"}')
    assert framed(message) is framed(message)  # framed once, however many clients


@contextlib.asynccontextmanager
async def uvicorn_server(app: Starlette) -> AsyncIterator[int]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, ws=LiveWebSocketProtocol, log_level="warning",
                            ws_per_message_deflate=False, lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


async def test_frames_written_directly_arrive_in_order_between_asgi_messages() -> None:
    seen: dict[str, object] = {}

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        writer = frame_writer(websocket)
        seen["writer"] = writer
        assert writer is not None and writer.is_open and writer.buffered() == 0
        await websocket.send_text("via asgi")
        for n in range(3):
            writer.write_text(Outgoing(json.dumps({"n": n, "text": "氢能"})))
        await websocket.send_text("via asgi again")
        assert await websocket.receive_text() == "bye"
        await websocket.close()

    app = Starlette(routes=[WebSocketRoute("/", endpoint)])
    async with uvicorn_server(app) as port, websockets.connect(f"ws://127.0.0.1:{port}/") as client:
        received = [await client.recv() for _ in range(5)]
        await client.send("bye")
    assert received[0] == "via asgi" and received[-1] == "via asgi again"
    assert [json.loads(r)["n"] for r in received[1:4]] == [0, 1, 2]
    assert seen["writer"] is not None


async def test_closing_with_last_frames_delivers_them_then_ends_the_connection() -> None:
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        writer = frame_writer(websocket)
        assert writer is not None
        writer.close_after('{"type":"resync"}', 4008, grace=1)
        with contextlib.suppress(Exception):
            await websocket.receive()

    app = Starlette(routes=[WebSocketRoute("/", endpoint)])
    async with uvicorn_server(app) as port, websockets.connect(f"ws://127.0.0.1:{port}/") as client:
        assert json.loads(await client.recv()) == {"type": "resync"}
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await client.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008


async def test_the_light_inbox_behaves_like_the_queue_it_replaces() -> None:
    from live.web.frames import Inbox

    inbox = Inbox()
    assert inbox.empty()
    inbox.put_nowait(1)
    inbox.put_nowait(2)
    assert [await inbox.get(), await inbox.get()] == [1, 2] and inbox.empty()
    waiting = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not waiting.done()
    inbox.put_nowait("later")
    assert await waiting == "later"
