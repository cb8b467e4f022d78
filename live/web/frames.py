"""Writing pre-encoded WebSocket frames straight to the socket, for the live stream's fan-out.

Through ASGI every message to every client is a coroutine call, a dict, a state check and a
frame encoding. For the event stream that cost is per (client, message), so it dominates: the
benchmark in bench/ measured about 2.5x the CPU of a bare ``websockets.broadcast()``. Here each
message is framed once and the same bytes are written to every client's transport, which is what
``broadcast()`` does minus the per-client framing.

This touches uvicorn's internals (its sans-I/O websockets protocol), so it lives in this one
module: ``LiveWebSocketProtocol`` is uvicorn's own protocol plus a ``FrameWriter`` published in the
ASGI scope's extensions, and tests/test_frames.py fails if the internals it relies on change.
Everything else (handshake, receiving, pings, closing) stays uvicorn's. Servers without it (the
test client, another ASGI server) fall back to plain ``send_text``.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import State

from ..outbox import Outgoing

EXTENSION = "live.frames"


def text_frame(text: str) -> bytes:
    """An unmasked, uncompressed, final text frame: what a server sends."""
    return Frame(Opcode.TEXT, text.encode("utf-8")).serialize(mask=False, extensions=[])


def close_frame(code: int, reason: str = "") -> bytes:
    return Frame(Opcode.CLOSE, Close(code, reason).serialize()).serialize(mask=False, extensions=[])


def framed(text: str) -> bytes:
    """A message's frame; an ``Outgoing`` (one text for a whole audience) is framed only once."""
    if not isinstance(text, Outgoing):
        return text_frame(text)
    if text.frame is None:
        text.frame = text_frame(text)
    return text.frame


class FrameWriter:
    """Direct access to one client's socket, for whole frames only (live/outbox.py's
    ``FrameWriter``, for uvicorn)."""

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol

    @property
    def is_open(self) -> bool:
        protocol = self._protocol
        return protocol.conn.state is State.OPEN and not protocol.transport.is_closing()

    def buffered(self) -> int:
        """Bytes written but not yet accepted by the client's socket: a slow reader's backlog."""
        return self._protocol.transport.get_write_buffer_size()

    def write_text(self, text: str) -> None:
        self._protocol.transport.write(framed(text))

    def close_after(self, text: str, code: int, grace: float) -> None:
        """Send the last message, close, and cut the socket if the client will not take them."""
        transport = self._protocol.transport
        if transport.is_closing():
            return
        transport.write(framed(text) + close_frame(code))
        transport.close()  # flushes what it can first
        asyncio.get_running_loop().call_later(grace, transport.abort)


class Inbox:
    """The three methods of asyncio.Queue that uvicorn's protocol uses (put_nowait, get, empty),
    for its single consumer, in a fraction of the memory: a Queue is four deques and an Event,
    about 2.3 KB, kept for every idle viewer for hours."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)

    def empty(self) -> bool:
        return not self._items


SOCKET_SEND_BUFFER = 128 * 1024  # the kernel doubles it: at most ~256 KiB queued per client there


class LiveWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, publishing a FrameWriter in the connection's ASGI scope."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Inbox()  # type: ignore[assignment]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A fixed send buffer instead of Linux's autotuning (up to 4 MiB per socket): bounded kernel
        # memory per client, and a client that stops reading shows up in our own backlog quickly.
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_SEND_BUFFER)
        super().connection_made(transport)

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            # The handshake's request and response are not needed once it is done: about 2 KB a
            # client, a tenth of what an idle viewer costs. websockets' parser keeps the request
            # alive for the connection's life, so its headers are emptied rather than dropped.
            self.request.headers.clear()
            self.request = self.response = None  # type: ignore[assignment]

    def handle_connect(self, event: object) -> None:
        super().handle_connect(event)  # type: ignore[arg-type]
        scope = getattr(self, "scope", None)
        if scope is not None:  # None when the handshake was refused
            scope["extensions"][EXTENSION] = FrameWriter(self)


def frame_writer(websocket: WebSocket) -> FrameWriter | None:
    writer = websocket.scope.get("extensions", {}).get(EXTENSION)
    return writer if isinstance(writer, FrameWriter) else None
