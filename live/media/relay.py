"""A room's stream, fanned out: encoded frames in from one source, the same payloads out to every
viewer. Nothing here decodes, encodes or knows about aiortc's internals.

Each frame is cut into RTP payloads once (``passthrough.packetize``); every viewer's track then
hands the same list to its RTP sender, so a viewer costs RTP headers, SRTP and a UDP send.

A viewer who joins mid-stream needs a keyframe before anything decodes. The relay keeps the
group of pictures since the last keyframe and, when it spans at most 1.5 s (FFmpeg and OBS with
a 1 s keyframe interval), gives it to a newcomer at once, squeezed into a few clock ticks so that
the player decodes it in a burst and shows the current picture rather than replaying the last
second. Otherwise (browsers send keyframes only when asked) the newcomer waits for the next
keyframe, which the relay asks the publisher for (PLI), at most once a second: some publishers
never answer, and a keyframe storm would cost every viewer bandwidth.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from .passthrough import Prepacked, packetize

KEYFRAME_REQUEST_INTERVAL = 1.0  # seconds between two PLIs to the publisher
REPLAY_LIMIT = 135_000  # 1.5 s at 90 kHz: a longer cached GOP is not replayed; we ask for a keyframe
GOP_LIMIT = 300  # frames kept while waiting for a keyframe; past it, the cache is dropped
QUEUE_LIMIT = 120  # frames waiting for one viewer's sender before it is resynchronised


def is_keyframe(codec: str, data: bytes) -> bool:
    """An H.264 access unit with an IDR slice (NAL type 5), or a VP8 key frame (P bit clear)."""
    if codec == "vp8":
        return bool(data) and not data[0] & 0x01
    if codec != "h264":
        return True  # audio: every frame stands alone
    position = data.find(b"\x00\x00\x01")
    while position != -1 and position + 3 < len(data):
        if data[position + 3] & 0x1F == 5:
            return True
        position = data.find(b"\x00\x00\x01", position + 3)
    return False


@dataclass(frozen=True)
class Frame:
    payloads: list[bytes]
    timestamp: int  # in the codec's clock
    keyframe: bool


class ForwardTrack(MediaStreamTrack):
    """One viewer's audio or video: a bounded queue of ready payloads, drained by its sender."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._queue: deque[Prepacked] = deque()
        self._ready = asyncio.Event()
        self.waiting = False  # for a keyframe: nothing before it would decode

    def push(self, payloads: list[bytes], timestamp: int) -> bool:
        """Queue a frame; False when the viewer is too far behind (the caller resynchronises)."""
        if len(self._queue) >= QUEUE_LIMIT:
            self._queue.clear()
            return False
        self._queue.append(Prepacked(payloads, timestamp))
        self._ready.set()
        return True

    def clear(self) -> None:
        self._queue.clear()

    async def recv(self) -> Prepacked:  # type: ignore[override]
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()

    def stop(self) -> None:
        super().stop()
        self._ready.set()


@dataclass(eq=False)
class Viewer:
    """What the relay needs of a viewer: a track per kind it receives."""

    video: ForwardTrack | None = None
    audio: ForwardTrack | None = None


class FrameSink(Protocol):
    """Something else that takes the source's encoded frames as they come (HLS packaging)."""

    def on_video(self, relay: Relay, data: bytes, timestamp: int, keyframe: bool) -> None: ...

    def on_audio(self, relay: Relay, data: bytes, timestamp: int) -> None: ...


@dataclass(eq=False)
class Relay:
    """One source's stream in one room. ``request_keyframe`` reaches the source (PLI)."""

    video_codec: str | None
    audio_codec: str | None
    request_keyframe: Callable[[], None] = lambda: None
    on_ready: Callable[[], None] = lambda: None  # called once, when a newcomer could see a picture
    ready: bool = False
    viewers: set[Viewer] = field(default_factory=set)
    sinks: list[FrameSink] = field(default_factory=list)
    gop: list[Frame] = field(default_factory=list)
    frames_in: int = 0
    last_frame_at: float = field(default_factory=time.monotonic)
    _picture_id: int = 0
    _last_request: float = -KEYFRAME_REQUEST_INTERVAL

    # -- frames in ---------------------------------------------------------------------------
    def on_video(self, data: bytes, timestamp: int) -> None:
        if self.video_codec is None or not data:
            return
        keyframe = is_keyframe(self.video_codec, data)
        self._picture_id = (self._picture_id + 1) % (1 << 15)
        frame = Frame(packetize(f"video/{self.video_codec}", data, self._picture_id), timestamp, keyframe)
        self._count()
        if keyframe:
            self.gop = [frame]
            self._became_ready()
        elif self.gop and len(self.gop) < GOP_LIMIT:
            self.gop.append(frame)
        else:
            self.gop = []  # no keyframe seen yet, or the publisher stopped sending them
            self.want_keyframe()
        for viewer in self.viewers:
            track = viewer.video
            if track is None or (track.waiting and not keyframe):
                continue
            track.waiting = False
            if not track.push(frame.payloads, frame.timestamp):
                self._replay(track)
        for sink in self.sinks:
            sink.on_video(self, data, timestamp, keyframe)

    def on_audio(self, data: bytes, timestamp: int) -> None:
        if self.audio_codec is None or not data:
            return
        payloads = [data]
        self._count()
        if self.video_codec is None:
            self._became_ready()
        for viewer in self.viewers:
            if viewer.audio is not None:
                viewer.audio.push(payloads, timestamp)
        for sink in self.sinks:
            sink.on_audio(self, data, timestamp)

    def _became_ready(self) -> None:
        if not self.ready:
            self.ready = True
            self.on_ready()

    def _count(self) -> None:
        self.frames_in += 1
        self.last_frame_at = time.monotonic()

    # -- viewers -----------------------------------------------------------------------------
    def add(self, viewer: Viewer) -> None:
        self.viewers.add(viewer)
        if viewer.video is not None:
            self._replay(viewer.video)

    def remove(self, viewer: Viewer) -> None:
        self.viewers.discard(viewer)

    def _replay(self, track: ForwardTrack) -> None:
        """Start (or restart) a viewer at the cached keyframe and what followed it, each frame one
        clock tick after the previous, ending at the newest frame's time; or, when there is no
        short enough GOP, at the next keyframe."""
        track.clear()
        if not self.gop or (self.gop[-1].timestamp - self.gop[0].timestamp) % (1 << 32) > REPLAY_LIMIT:
            track.waiting = True
            self.want_keyframe()
            return
        newest = self.gop[-1].timestamp
        count = len(self.gop)
        for index, frame in enumerate(self.gop):
            track.push(frame.payloads, (newest - (count - 1 - index)) % (1 << 32))

    def want_keyframe(self) -> None:
        """Ask the source for a keyframe, at most once per KEYFRAME_REQUEST_INTERVAL."""
        now = time.monotonic()
        if now - self._last_request >= KEYFRAME_REQUEST_INTERVAL:
            self._last_request = now
            self.request_keyframe()

    def close(self) -> None:
        for viewer in self.viewers:
            for track in (viewer.video, viewer.audio):
                if track is not None:
                    with contextlib.suppress(Exception):
                        track.stop()
        self.viewers.clear()
        self.gop = []
