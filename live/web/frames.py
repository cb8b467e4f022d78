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

from ..outbox import CLOSED, FULL, WRITTEN, Message, Outgoing, Snapshot

EXTENSION = "live.frames"
OPEN = State.OPEN


def text_frame(text: str) -> bytes:
    """An unmasked, uncompressed, final text frame: what a server sends (RFC 6455 5.2), built
    here rather than through websockets' ``Frame``: every reply and snapshot tail is framed for
    one client, a few microseconds each in the vote storm's hot path."""
    payload = text.encode("utf-8")
    length = len(payload)
    if length < 126:
        return bytes((0x81, length)) + payload
    if length < 65536:
        return b"\x81\x7e" + length.to_bytes(2, "big") + payload
    return b"\x81\x7f" + length.to_bytes(8, "big") + payload


def close_frame(code: int, reason: str = "") -> bytes:
    return Frame(Opcode.CLOSE, Close(code, reason).serialize()).serialize(mask=False, extensions=[])


def framed(text: str) -> bytes:
    """A message's frame; an ``Outgoing`` (one text for a whole audience) is framed only once."""
    if not isinstance(text, Outgoing):
        return text_frame(text)
    if text.frame is None:
        text.frame = text_frame(text)
    return text.frame


def fragment_frames(snapshot: Snapshot) -> tuple[bytes, bytes]:
    """A snapshot as two fragments of one text message: the shared head (framed once, kept on
    it) and the participant's tail. A client reassembles them; no other frame may come between."""
    head = snapshot.head
    if head.fragment is None:
        head.fragment = Frame(Opcode.TEXT, head.encode("utf-8"), fin=False).serialize(mask=False, extensions=[])
    tail = Frame(Opcode.CONT, snapshot.tail.encode("utf-8")).serialize(mask=False, extensions=[])
    return head.fragment, tail


CHUNK = 64 * 1024  # bytes handed to the transport at a time while a client's socket is full
HIGH_WATER = 32 * 1024  # the transport's high-water mark for stream connections (asyncio: 64 KiB)


class FrameWriter:
    """Direct access to one client's socket, for whole frames only (live/outbox.py's
    ``FrameWriter``, for uvicorn).

    A frame that the socket cannot take at once waits here as a reference, and is handed to the
    transport ``CHUNK`` by ``CHUNK`` as the client reads (``pump``, on the transport's
    ``resume_writing``): asyncio would otherwise copy all of it into this client's own buffer, and
    a room's snapshot is shared by every client who joins at once. A thousand clients that never
    read then hold references to one snapshot, not a thousand copies (docs/CAPACITY.md)."""

    __slots__ = ("_closing", "_conn", "_mid_message", "_protocol", "_transport", "_waiting", "_waiting_bytes")

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol
        # Both are the connection's for its whole life (made before the handshake completes), so
        # the fan-out reads them from here, not through the protocol, for every message.
        self._transport = protocol.transport
        self._conn = protocol.conn
        # Frames (or their rest) not yet handed over: usually none, so a list (56 bytes) rather
        # than a deque (over 600) for every idle viewer; it holds a few frames at most.
        self._waiting: list[memoryview] = []
        self._waiting_bytes = 0
        self._mid_message = False  # the transport has part of a message: its rest must come next
        self._closing = False

    @property
    def is_open(self) -> bool:
        return self._conn.state is OPEN and not self._transport.is_closing() and not self._closing

    def buffered(self) -> int:
        """Bytes written but not yet accepted by the client's socket: a slow reader's backlog."""
        return self._transport.get_write_buffer_size() + self._waiting_bytes

    def offer(self, text: Message, limit: int) -> int:
        """The fan-out's inner loop, once per client per message (live/outbox.py's contract):
        the open and backlog checks and the write in one call, the attributes read once."""
        transport = self._transport
        if self._closing or self._conn.state is not OPEN or transport.is_closing():
            return CLOSED
        waiting = self._waiting_bytes  # none waiting is the usual case: the list itself is not read
        if transport.get_write_buffer_size() + waiting > limit:
            return FULL
        if not waiting and type(text) is Outgoing:
            frame = text.frame or framed(text)
            if len(frame) <= CHUNK:  # the usual case: one small event, at once
                transport.write(frame)
                return WRITTEN
        self.write_text(text)
        return WRITTEN

    def write_text(self, text: Message) -> None:
        if isinstance(text, Snapshot):
            for frame in fragment_frames(text):
                self._wait(frame)
            self.pump()
            return
        frame = framed(text)
        if not self._waiting and len(frame) <= CHUNK:  # one small message, at once
            self._transport.write(frame)
            return
        self._wait(frame)
        self.pump()

    def _wait(self, frame: bytes) -> None:
        self._waiting.append(memoryview(frame))
        self._waiting_bytes += len(frame)

    def pump(self) -> None:
        """Hand waiting frames to the transport while its buffer is at most ``HIGH_WATER``: past
        it the transport pauses the protocol, whose ``resume_writing`` calls this again."""
        transport = self._transport
        while self._waiting and transport.get_write_buffer_size() <= HIGH_WATER and not transport.is_closing():
            view = self._waiting[0]
            transport.write(view[:CHUNK])
            self._waiting_bytes -= min(len(view), CHUNK)
            if len(view) > CHUNK:
                self._waiting[0] = view[CHUNK:]
                self._mid_message = True
            else:
                self._waiting.pop(0)
                self._mid_message = _is_fragment(view.obj)  # a head whose tail must follow
        if self._closing and not self._waiting and not transport.is_closing():
            transport.close()  # flushes what it can first

    def close_after(self, text: str, code: int, grace: float) -> None:
        """Send the last message, close, and cut the socket if the client will not take them.
        A message already begun is finished first (nothing may come between its parts); what was
        not begun is dropped: the client is told to resync and will get a fresh snapshot."""
        transport = self._transport
        if transport.is_closing() or self._closing:
            return
        kept: list[memoryview] = []
        if self._waiting and self._mid_message:
            kept.append(self._waiting.pop(0))
            if self._waiting and _is_fragment(kept[0].obj):
                kept.append(self._waiting.pop(0))  # the tail of a head begun
        self._waiting[:] = kept
        self._waiting_bytes = sum(len(view) for view in kept)
        self._wait(framed(text) + close_frame(code))
        self._closing = True
        self.pump()
        asyncio.get_running_loop().call_later(grace, transport.abort)


def _is_fragment(frame: object) -> bool:
    """Whether a serialised frame leaves its message unfinished (FIN bit clear)."""
    return isinstance(frame, bytes) and len(frame) > 0 and not frame[0] & 0x80


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


class Writable:
    """The four methods of asyncio.Event that uvicorn's protocol uses for its ``writable`` flag
    (set, clear, is_set, wait), in a fraction of the memory: an Event and its deque of waiters
    are about 760 bytes, kept for every viewer for hours, and nobody waits on it but the one
    ASGI task of the connection, while the client is not reading."""

    __slots__ = ("_value", "_waiters")

    def __init__(self) -> None:
        self._value = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        self._value = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> bool:
        """As ``asyncio.Event.wait``: a waiter woken by ``set`` returns, even if the flag was
        cleared again before it ran."""
        if self._value:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        await waiter
        return True


SOCKET_SEND_BUFFER = 128 * 1024  # the kernel doubles it: at most ~256 KiB queued per client there


class LiveWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, publishing a FrameWriter in the connection's ASGI scope."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Inbox()  # type: ignore[assignment]
        self.writable = Writable()  # type: ignore[assignment]
        self.writable.set()  # as uvicorn's own: writable until the transport says otherwise
        self.frame_writer: FrameWriter | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A fixed send buffer instead of Linux's autotuning (up to 4 MiB per socket): bounded kernel
        # memory per client, and a client that stops reading shows up in our own backlog quickly.
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_SEND_BUFFER)
        if isinstance(transport, asyncio.WriteTransport):
            transport.set_write_buffer_limits(high=HIGH_WATER)  # FrameWriter.pump relies on it
        super().connection_made(transport)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.frame_writer is not None:
            self.frame_writer.pump()  # the client read: hand it the next chunk of what waits

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
            self.frame_writer = scope["extensions"][EXTENSION] = FrameWriter(self)


def frame_writer(websocket: WebSocket) -> FrameWriter | None:
    writer = websocket.scope.get("extensions", {}).get(EXTENSION)
    return writer if isinstance(writer, FrameWriter) else None
