"""A WHEP viewer in Python: what the tests and ``bench/media_bench.py`` watch a room with (a
measuring tool, not part of the service).

By default it counts encoded frames as they leave its jitter buffer, without decoding, so that a
benchmark's hundreds of viewers measure the server rather than their own decoders; ``decode=True``
decodes video instead and keeps the last picture's size, to prove the stream really plays.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from live.media.passthrough import tap_encoded_frames
from live.media.relay import is_keyframe

if TYPE_CHECKING:
    import httpx  # a test dependency: only this tool uses it


@dataclass
class Watcher:
    url: str  # the room's WHEP endpoint
    decode: bool = False
    video_frames: int = 0
    audio_frames: int = 0
    keyframes: int = 0
    started: float = 0.0
    first_frame: float | None = None  # seconds from the WHEP request to the first video frame
    size: tuple[int, int] | None = None  # the last decoded picture (decode=True)
    resource: str | None = None
    pc: RTCPeerConnection = field(default_factory=RTCPeerConnection)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self, client: httpx.AsyncClient) -> int:
        """Offer, and return the HTTP status (201 when watching; redirects are followed)."""
        for kind in ("video", "audio"):
            transceiver = self.pc.addTransceiver(kind, direction="recvonly")
            if not (self.decode and kind == "video"):
                tap_encoded_frames(transceiver.receiver, self._count_video if kind == "video" else self._count_audio)
        self.pc.on("track", self._track)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        self.started = time.monotonic()  # first_frame counts from the request, not our own setup
        response = await client.post(
            self.url,
            content=self.pc.localDescription.sdp,
            headers={"Content-Type": "application/sdp"},
            follow_redirects=True,
        )
        if response.status_code != 201:
            return response.status_code
        self.resource = urljoin(str(response.url), response.headers["location"])
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=response.text, type="answer"))
        return 201

    def _count_video(self, codec: RTCRtpCodecParameters, data: bytes, timestamp: int) -> None:
        if self.first_frame is None:
            self.first_frame = time.monotonic() - self.started
        self.video_frames += 1
        self.keyframes += is_keyframe(codec.name.lower(), data)

    def _count_audio(self, codec: RTCRtpCodecParameters, data: bytes, timestamp: int) -> None:
        self.audio_frames += 1

    def _track(self, track: MediaStreamTrack) -> None:
        if self.decode and track.kind == "video":
            self._tasks.append(asyncio.create_task(self._decode(track)))

    async def _decode(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if self.first_frame is None:
                    self.first_frame = time.monotonic() - self.started
                self.video_frames += 1
                self.size = (frame.width, frame.height)  # type: ignore[union-attr]

    async def stop(self, client: httpx.AsyncClient | None = None) -> None:
        if client is not None and self.resource is not None:
            with contextlib.suppress(Exception):
                await client.delete(self.resource)
        for task in self._tasks:
            task.cancel()
        await self.pc.close()
