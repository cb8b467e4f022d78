"""A direct connection (live/outbox.py), the production path of every live-stream client: frames
written straight to a real socket through uvicorn on loopback, in order behind what was queued
before it started, bounded by the socket's backlog, a resync and a close for a client that stops
reading, and silence once the client has gone."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator

import pytest
import websockets
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from live.domain.roles import Audience
from live.outbox import CLOSE_RESYNC, DirectConnection, Outgoing
from live.web.frames import frame_writer

from .livetools import serve_with_frames

OUTBOX_LIMIT = 4  # messages: the connection's backlog may reach 4 KiB before it is told to resync


class Served:
    """A uvicorn server whose every WebSocket client becomes a DirectConnection, handed to the test."""

    def __init__(self) -> None:
        self.connections: asyncio.Queue[DirectConnection] = asyncio.Queue()
        self.closed_with: list[int] = []
        self.disconnected = asyncio.Event()  # the server has seen a client leave
        self.port = 0

    async def endpoint(self, websocket: WebSocket) -> None:
        await websocket.accept()
        writer = frame_writer(websocket)
        assert writer is not None, "served without LiveWebSocketProtocol"

        async def close(code: int) -> None:
            self.closed_with.append(code)

        self.connections.put_nowait(DirectConnection("main", Audience.PUBLIC, "viewer", writer, close, OUTBOX_LIMIT))
        with contextlib.suppress(Exception):  # read until the client leaves, as the live stream does
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass
        self.disconnected.set()

    async def client(self, **options: object) -> tuple[websockets.ClientConnection, DirectConnection]:
        client = await websockets.connect(f"ws://127.0.0.1:{self.port}/", **options)  # type: ignore[arg-type]
        return client, await asyncio.wait_for(self.connections.get(), 5)


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    served = Served()
    app = Starlette(routes=[WebSocketRoute("/", served.endpoint)])
    async with serve_with_frames(app) as port:
        served.port = port
        yield served


def message(n: int, size: int = 0) -> str:
    return json.dumps({"type": "question", "n": n, "text": "氢" * size})


async def test_what_was_queued_before_start_goes_first_then_frames_go_straight_out(served: Served) -> None:
    client, connection = await served.client()
    connection.push(message(0))  # the snapshot and what the hub queued behind it, before start()
    connection.push(Outgoing(message(1)))
    assert connection.depth == 2
    assert connection.start() is None  # no writer task: the socket's buffer is the outbox
    for n in range(2, 5):
        connection.push(Outgoing(message(n)) if n % 2 else message(n))  # framed once, or here if plain text
    assert len(connection.outbox) == 0
    assert [json.loads(await asyncio.wait_for(client.recv(), 5))["n"] for _ in range(5)] == [0, 1, 2, 3, 4]
    assert connection.depth == 0 and not connection.lagging and not connection.closed
    await client.close()


async def test_a_client_that_stops_reading_gets_a_resync_and_a_close_and_nothing_more(served: Served) -> None:
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a phone that stops reading
    stuck.setblocking(False)
    await asyncio.get_running_loop().sock_connect(stuck, ("127.0.0.1", served.port))
    # max_queue=1: websockets stops reading from the socket once one message waits for recv()
    client, connection = await served.client(sock=stuck, max_queue=1, max_size=None)
    connection.start()
    resyncs = REGISTRY.get_sample_value("live_resyncs_total", {"reason": "slow_client"}) or 0.0
    pushed = 0
    while not connection.lagging:  # the kernel's buffers fill first, then the transport's own backlog
        connection.push(Outgoing(message(pushed, size=300)))  # about 1 KB a message
        pushed += 1
        assert pushed < 10_000, "the backlog never grew: the client's socket took everything"
    assert REGISTRY.get_sample_value("live_resyncs_total", {"reason": "slow_client"}) == resyncs + 1
    backlog = connection.depth  # in KiB
    assert backlog >= OUTBOX_LIMIT  # it was over its limit
    connection.push(message(-1))  # told to resync already: nothing more is written
    assert connection.depth == backlog

    received: list[int] = []
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:  # now it reads again: everything it was sent, in order, then the resync, then the close
            last = json.loads(await asyncio.wait_for(client.recv(), 5))
            if last["type"] != "question":
                break
            received.append(last["n"])
        await asyncio.wait_for(client.recv(), 5)
    assert received == list(range(pushed - 1))  # all that was written, in order; not the one over the limit
    assert last == {"type": "resync", "reason": "too_far_behind"}
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_RESYNC


async def test_once_the_client_has_gone_pushes_end_the_connection(served: Served) -> None:
    client, connection = await served.client()
    connection.start()
    connection.push(message(0))
    assert json.loads(await asyncio.wait_for(client.recv(), 5))["n"] == 0
    await client.close()
    await asyncio.wait_for(served.disconnected.wait(), 5)
    connection.push(message(1))
    assert connection.closed and not connection.lagging
    assert served.closed_with == []  # a direct connection closes the socket itself, never through ASGI


def small_receive_buffer() -> dict[str, object]:
    """Client options for a reader that takes little at a time: its kernel buffer stays small."""
    return {"max_size": None, "max_queue": 1}


async def test_a_big_snapshot_waits_as_one_shared_frame_and_arrives_whole_as_the_client_reads(
    served: Served,
) -> None:
    """A room's snapshot (here 2 MB) is shared by everyone joining at once. A client that does
    not read holds a reference to its one frame, not a copy: what its transport buffers stays
    within a chunk or two, and the rest is handed over as it reads. A client that reads gets the
    snapshot whole (two fragments of one message) and then what followed it, in order."""
    from live.outbox import Snapshot
    from live.web.frames import CHUNK, HIGH_WATER

    head = Outgoing(json.dumps({"type": "snapshot", "room": {"text": "氢" * 700_000}})[:-1])
    laggards = [await served.client(**small_receive_buffer()) for _ in range(5)]
    for number, (_, connection) in enumerate(laggards):
        connection.limit_bytes = 10 * 1024 * 1024  # this test is about holding, not resyncing
        connection.push(Snapshot(head, f',"mine":{{"n":{number}}}}}'))
        connection.start()
    await asyncio.sleep(0)  # let the sockets fill
    for _, connection in laggards:
        writer = connection._writer
        transport_bytes = writer._protocol.transport.get_write_buffer_size()  # type: ignore[attr-defined]
        assert transport_bytes <= HIGH_WATER + CHUNK, transport_bytes
        waiting = list(writer._waiting)  # type: ignore[attr-defined]
        assert waiting and waiting[0].obj is head.fragment  # the same bytes for every client
    client, connection = laggards[0]
    connection.push(Outgoing(message(1)))  # an event behind the snapshot waits behind it
    snapshot = json.loads(await asyncio.wait_for(client.recv(), 10))
    assert len(snapshot["room"]["text"]) == 700_000 and snapshot["mine"] == {"n": 0}
    assert json.loads(await asyncio.wait_for(client.recv(), 5))["n"] == 1
    for other, _ in laggards:
        other.transport.abort()  # they never read: no closing handshake to wait for


def test_a_connection_keeps_no_attribute_dictionary() -> None:
    # One per viewer for hours, read for every message: slots, not a dict each (docs/CAPACITY.md).
    from live.outbox import Connection

    async def never(*_: object) -> None: ...

    for connection in (
        Connection("main", Audience.PUBLIC, "viewer", never, never),
        DirectConnection("main", Audience.PUBLIC, "viewer", None, never),  # type: ignore[arg-type]
    ):
        assert not hasattr(connection, "__dict__")
