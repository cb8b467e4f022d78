"""A client's outbox: how the hub hands it messages without ever waiting for it.

Two kinds of connection share one contract (``push`` never blocks; a client that falls too far
behind gets ``resync`` and is closed, so one slow phone cannot stall a room):

- ``Connection`` queues messages in a bounded deque drained by its own writer task through any
  ``send`` coroutine (the ASGI path; used by tests and any ASGI server).
- ``DirectConnection`` hands each message to a ``FrameWriter`` (the transport's, given to it:
  live/web/frames.py is uvicorn's), which frames it once for every client and writes it straight
  to the socket; the socket's write buffer is its outbox, bounded in bytes. No task per client,
  no per-client framing: the figures that justified it are in docs/CAPACITY.md.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

from . import metrics
from .domain.roles import Audience
from .protocol import CLOSE_RESYNC, RESYNC_TEXT

OUTBOX_LIMIT = 500  # messages waiting for one client before it is told to resync
BYTES_PER_MESSAGE = 1024  # a direct connection's outbox limit is OUTBOX_LIMIT times this, in bytes
SEND_TIMEOUT = 15.0  # a client that takes longer to accept one message is dropped
CLOSE_GRACE = 5.0  # seconds a dropped client gets to take its last messages before the socket is cut


class Outgoing(str):
    """A message serialised once for an audience. The transport that frames it keeps the frame
    here, so that every client of the audience is written the same bytes, framed once."""

    frame: bytes | None = None
    fragment: bytes | None = None  # as the first fragment of a message (a snapshot's shared head)


RESYNC = Outgoing(RESYNC_TEXT)

WRITTEN, CLOSED, FULL = 0, 1, 2  # what FrameWriter.offer did


class Snapshot(str):
    """A ``snapshot`` message, also kept in two parts: ``head`` (up to the room view, shared by
    everyone who joins from the same cached view) and ``tail`` (the participant's own). A direct
    connection sends them as two fragments of one message, so the room's bytes are held once
    however many clients are still taking them (one that never reads costs a reference, not a
    copy); anything else sends the text whole."""

    head: Outgoing
    tail: str

    def __new__(cls, head: Outgoing, tail: str) -> Snapshot:
        message = super().__new__(cls, head + tail)
        message.head, message.tail = head, tail
        return message


Message = str  # an Outgoing, a Snapshot, or any text


class FrameWriter(Protocol):
    """What a direct connection needs of its client's socket (live/web/frames.py has uvicorn's)."""

    @property
    def is_open(self) -> bool: ...

    def buffered(self) -> int:
        """Bytes written but not yet taken by the client: its backlog."""
        ...

    def write_text(self, text: Message) -> None:
        """Write one message (an ``Outgoing``'s frame is built once and kept; a ``Snapshot``'s
        head is framed once and shared)."""
        ...

    def offer(self, text: Message, limit: int) -> int:
        """``write_text`` if the socket is open and its backlog at most ``limit`` bytes: WRITTEN,
        else CLOSED or FULL (nothing written). One call per client per message, the fan-out's
        inner loop: the checks and the write are done together."""
        ...

    def close_after(self, text: str, code: int, grace: float) -> None:
        """Write a last message and a close frame, then cut the socket after ``grace`` seconds."""
        ...


class Connection:
    """One client as the hub sees it: an audience, a bounded outbox, and a writer task."""

    # Slots: one of these per viewer for hours, and the fan-out reads them for every message.
    __slots__ = ("_close", "_send", "_wakeup", "audience", "closed", "display_name", "lagging", "limit", "outbox",
                 "participant_id", "role", "room_id")  # fmt: skip

    def __init__(
        self,
        room_id: str,
        audience: Audience,
        role: str,
        send: Callable[[str], Awaitable[None]],
        close: Callable[[int], Awaitable[None]],
        outbox_limit: int | None = None,
    ) -> None:
        self.room_id = room_id
        self.audience = audience
        self.role = role
        self.participant_id: str | None = None
        # the participant's name for the commands sent on this connection: the session's at the
        # handshake, then whatever they save while it is open (Hub.rename)
        self.display_name: str | None = None
        self._send = send
        self._close = close
        self.limit = outbox_limit or OUTBOX_LIMIT
        self.outbox: deque[Message] = deque()
        self._wakeup: asyncio.Event | None = None  # made by the writer task: direct connections have none
        self.lagging = False
        self.closed = False

    def push(self, text: Message) -> None:
        if self.lagging or self.closed:
            return
        if len(self.outbox) >= self.limit:
            self.lagging = True
            self.outbox.clear()
            self.outbox.append(RESYNC)
            metrics.RESYNCS.labels(reason="slow_client").inc()
        else:
            self.outbox.append(text)
        if self._wakeup is not None:
            self._wakeup.set()

    def start(self) -> asyncio.Task[None] | None:
        """Begin delivering, first what ``Hub.attach`` queued; returns the task doing it, if any."""
        return asyncio.create_task(self.run_writer())

    async def run_writer(self) -> None:
        """Send queued messages in order until the connection ends or falls behind."""
        self._wakeup = wakeup = asyncio.Event()
        try:
            while not self.closed:
                while self.outbox:
                    text = self.outbox.popleft()
                    await asyncio.wait_for(self._send(text), SEND_TIMEOUT)
                if self.lagging:
                    await self._close(CLOSE_RESYNC)  # after the resync message: the client reconnects
                    return
                wakeup.clear()
                await wakeup.wait()
        except (TimeoutError, OSError, RuntimeError):
            metrics.DROPPED.inc()
            with contextlib.suppress(Exception):
                await self._close(CLOSE_RESYNC)
        finally:
            self.closed = True

    def stop(self) -> None:
        self.closed = True
        if self._wakeup is not None:
            self._wakeup.set()

    @property
    def depth(self) -> int:
        """Messages waiting for this client (for a direct connection: its backlog in KiB)."""
        return len(self.outbox)


NO_OUTBOX: deque[Message] = deque(maxlen=0)  # shared by started direct connections: they never queue


class DirectConnection(Connection):
    """Writes frames to the client's socket as they come; the socket buffer is the outbox."""

    __slots__ = ("_started", "_writer", "_writing", "limit_bytes")

    def __init__(
        self,
        room_id: str,
        audience: Audience,
        role: str,
        writer: FrameWriter,
        close: Callable[[int], Awaitable[None]],
        outbox_limit: int | None = None,
    ) -> None:
        super().__init__(room_id, audience, role, self._unused_send, close, outbox_limit)
        self._writer = writer
        self._started = False
        self._writing = False  # started, and neither lagging nor closed: push goes straight to the writer
        self.limit_bytes = self.limit * BYTES_PER_MESSAGE

    @staticmethod
    async def _unused_send(text: str) -> None:
        raise RuntimeError("a direct connection writes frames, it does not send")

    def push(self, text: Message) -> None:
        if self._writing:  # the usual case, once per client per message: one call, one check
            outcome = self._writer.offer(text, self.limit_bytes)
            if outcome:  # not WRITTEN
                self._not_written(outcome)
            return
        if self.lagging or self.closed:
            return
        if not self._started:
            self.outbox.append(text)  # before start(): keep the order behind the snapshot

    def _not_written(self, outcome: int) -> None:
        self._writing = False
        if outcome == CLOSED:
            self.closed = True
        else:
            self._fall_behind()

    @property
    def depth(self) -> int:
        return len(self.outbox) + self._writer.buffered() // BYTES_PER_MESSAGE

    def _fall_behind(self) -> None:
        self.lagging = True
        metrics.RESYNCS.labels(reason="slow_client").inc()
        self._writer.close_after(RESYNC, CLOSE_RESYNC, CLOSE_GRACE)

    def stop(self) -> None:
        self._writing = False
        super().stop()

    def start(self) -> asyncio.Task[None] | None:
        self._started = True
        self._writing = not (self.lagging or self.closed)
        queued, self.outbox = self.outbox, NO_OUTBOX  # from now on the socket's buffer is the outbox
        for text in queued:
            self.push(text)
        return None
