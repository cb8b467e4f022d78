"""The direct frame path relies on uvicorn internals: these tests fail when those change (the pinned
version first, then the frames themselves through a real uvicorn server)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
from importlib.metadata import version
from types import SimpleNamespace

import pytest
import websockets
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from live.outbox import CLOSED, FULL, WRITTEN, Outgoing
from live.web.frames import HIGH_WATER, FrameWriter, close_frame, frame_writer, framed, text_frame

from .livetools import serve_with_frames


def test_the_pinned_version() -> None:
    # uvicorn is pinned in pyproject.toml: what frames.py relies on (the protocol's conn, transport,
    # scope and queue attributes, handle_connect's event) is checked by the version, and run for
    # real by the tests below, which serve through LiveWebSocketProtocol.
    assert version("uvicorn") == "0.54.0", "uvicorn changed: re-check live/web/frames.py, then this file"
    assert "event" in inspect.signature(WebSocketsSansIOProtocol.handle_connect).parameters


def test_frames_are_what_a_websocket_client_expects() -> None:
    assert text_frame("hi") == b"\x81\x02hi"
    assert text_frame("氢") == b"\x81\x03" + "氢".encode()
    assert text_frame("x" * 300)[:4] == b"\x81\x7e\x01\x2c"  # 16-bit length
    assert close_frame(4008) == b"\x88\x02\x0f\xa8"
    message = Outgoing('{"type":"x"}')
    assert framed(message) is framed(message)  # framed once, however many clients


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
    async with serve_with_frames(app) as port, websockets.connect(f"ws://127.0.0.1:{port}/") as client:
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
    async with serve_with_frames(app) as port, websockets.connect(f"ws://127.0.0.1:{port}/") as client:
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


class RecordingTransport:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.backlog = 0
        self.closing = False

    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return self.backlog


def writer_on(transport: RecordingTransport) -> tuple[FrameWriter, SimpleNamespace]:
    connection = SimpleNamespace(state=State.OPEN)
    return FrameWriter(SimpleNamespace(conn=connection, transport=transport)), connection  # type: ignore[arg-type]


def test_offer_writes_one_frame_for_everyone_and_nothing_over_the_limit_or_once_closed() -> None:
    event = Outgoing('{"type":"question"}')
    first, second = RecordingTransport(), RecordingTransport()
    (writer, _), (other, other_connection) = writer_on(first), writer_on(second)
    assert writer.offer(event, limit=1024) == WRITTEN and other.offer(event, limit=1024) == WRITTEN
    assert first.written == second.written == [text_frame(event)]
    assert first.written[0] is not None and event.frame is framed(event)  # framed once, kept on the message
    assert writer.offer("plain text", limit=1024) == WRITTEN and first.written[-1] == text_frame("plain text")

    first.backlog = 2048  # the client stopped reading
    assert writer.offer(event, limit=1024) == FULL and len(first.written) == 2
    other_connection.state = State.CLOSING  # a close frame went or came: no data frame may follow
    assert other.offer(event, limit=1024) == CLOSED and len(second.written) == 1
    first.backlog, first.closing = 0, True
    assert writer.offer(event, limit=1024) == CLOSED and len(first.written) == 2


def test_offer_keeps_a_message_behind_frames_still_waiting() -> None:
    from live.outbox import Snapshot

    transport = RecordingTransport()
    writer, _ = writer_on(transport)
    transport.backlog = HIGH_WATER + 1  # full: the snapshot's fragments wait in the writer
    writer.offer(Snapshot(Outgoing('{"type":"snapshot","room":{}'), ',"mine":{}}'), limit=10 * HIGH_WATER)
    assert transport.written == [] and writer.buffered() > HIGH_WATER
    event = Outgoing('{"type":"question"}')
    assert writer.offer(event, limit=10 * HIGH_WATER) == WRITTEN
    assert transport.written == []  # not ahead of the snapshot: it waits behind it
    transport.backlog = 0
    writer.pump()  # the client read
    assert b"".join(transport.written).endswith(text_frame(event)) and writer.buffered() == 0


async def test_the_writable_flag_wakes_every_waiter_when_set_and_not_before() -> None:
    from live.web.frames import Writable

    flag = Writable()
    waiters = [asyncio.ensure_future(flag.wait()) for _ in range(2)]
    await asyncio.sleep(0)
    assert not flag.is_set() and not any(waiter.done() for waiter in waiters)
    flag.set()
    assert await asyncio.wait_for(asyncio.gather(*waiters), 1) == [True, True]
    flag.clear()
    late = asyncio.ensure_future(flag.wait())
    await asyncio.sleep(0)
    assert not late.done()
    flag.set()
    assert await asyncio.wait_for(late, 1) is True
    assert await flag.wait() is True  # already set: no waiting
    flag.clear()
    woken = asyncio.ensure_future(flag.wait())
    await asyncio.sleep(0)
    flag.set()
    flag.clear()  # paused again before the waiter ran: as with asyncio.Event, it was woken
    assert await asyncio.wait_for(woken, 1) is True


@pytest.mark.parametrize("size", [0, 1, 125, 126, 300, 65535, 65536, 200_000])
def test_text_frames_match_the_websockets_library_at_every_length_boundary(size: int) -> None:
    from websockets.frames import Frame, Opcode

    text = ("氢" * (size // 3)) + ("x" * (size % 3))  # exactly ``size`` bytes of UTF-8
    assert text_frame(text) == Frame(Opcode.TEXT, text.encode("utf-8")).serialize(mask=False, extensions=[])
