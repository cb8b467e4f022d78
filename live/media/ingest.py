"""A publisher's session (WHIP, RFC 9725): its encoded frames go to a relay, never to a decoder.

Publishers are few, authenticated and precious, so their liveness is judged by their media, not
by ICE consent freshness: FFmpeg's WHIP muxer never answers consent checks (aioice would drop it
after about 30 s), so consent checks are stopped once ICE completes and a publisher is ended
when its media stops: ``MEDIA_SILENCE`` after its last frame (a crashed encoder: viewers see
"offline" within about 2 s, not a frozen picture labelled live), or ``CONNECT_SILENCE`` before
its first one (ICE and DTLS take their time).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from .offer import Offer
from .passthrough import FrameSink, request_keyframe, stop_consent_checks, tap_encoded_frames
from .peer import Peer
from .relay import Relay

MEDIA_SILENCE = 2.0  # seconds without a frame, once frames flowed, before a publisher counts as gone
CONNECT_SILENCE = 10.0  # seconds from ICE's completion to the first frame
CHECK_INTERVAL = 0.5


class Publisher:
    def __init__(self, offer: Offer, software: str) -> None:
        self.peer = Peer("publisher")
        self.offer = offer
        self.software = software  # the User-Agent, shown to the admin
        self.started_at = time.time()
        self.relay = Relay(offer.video_codec, offer.audio_codec, request_keyframe=self._request_keyframe)
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def id(self) -> str:
        return self.peer.id

    async def start(self) -> str:
        """Answer the offer; frames flow into ``relay`` once the connection is up."""
        self.peer.pc.on("iceconnectionstatechange", self._ice_changed)
        answer = await self.peer.accept(self.offer.sdp, self._prepare)
        self.peer.watch(self._check, CHECK_INTERVAL)
        return answer

    def _prepare(self) -> None:
        for kind, codec in (("video", self.offer.video_codec), ("audio", self.offer.audio_codec)):
            if codec is not None:
                transceiver = self.peer.add(kind, codec, "recvonly")
                sink = self.relay.on_video if kind == "video" else self.relay.on_audio
                tap_encoded_frames(transceiver.receiver, _ignore_codec(sink))

    async def _ice_changed(self) -> None:
        if self.peer.pc.iceConnectionState == "completed":
            stop_consent_checks(self.peer.pc)
            self.relay.last_frame_at = time.monotonic()  # the silence clock starts now

    async def _check(self) -> str | None:
        limit = MEDIA_SILENCE if self.relay.frames_in else CONNECT_SILENCE
        if time.monotonic() - self.relay.last_frame_at > limit:
            return f"no media for {limit:.0f} s"
        return None

    def _request_keyframe(self) -> None:
        for transceiver in self.peer.transceivers("video"):
            task = asyncio.create_task(request_keyframe(transceiver.receiver))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def stop(self, reason: str) -> None:
        self.relay.close()
        await self.peer.end(reason)


def _ignore_codec(sink: Callable[[bytes, int], None]) -> FrameSink:
    """The relay knows its codec already; the tap also passes aiortc's codec parameters."""

    def forward(codec: RTCRtpCodecParameters, data: bytes, timestamp: int) -> None:
        sink(data, timestamp)

    return forward
