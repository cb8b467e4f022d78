"""A viewer's session (WHEP): the relay's payloads out, and an end as soon as the viewer is gone.

ICE consent freshness alone would keep sending to a closed tab for about 30 s. A viewer that
receives media sends RTCP receiver reports every second or so; one that has sent none for
``VIEWER_SILENCE`` seconds while the room's media flows is ended, so a vanished viewer stops
costing anything within a few seconds.
"""

from __future__ import annotations

import datetime
import time

from .offer import Offer, OfferRefused
from .passthrough import send_prepacked
from .peer import Peer
from .relay import ForwardTrack, Relay, Viewer

VIEWER_SILENCE = 8.0  # seconds without a receiver report
CHECK_INTERVAL = 2.0


class Player:
    def __init__(self, relay: Relay, offer: Offer, address: str | None = None) -> None:
        self.relay = relay
        self.offer = offer
        self.address = address  # the client's, for its share of the connecting slots
        self.peer = Peer("viewer")
        self.viewer = Viewer()
        self.video = relay.video_codec if relay.video_codec in offer.video_codecs else None
        self.audio = relay.audio_codec if relay.audio_codec in offer.audio_codecs else None
        if self.video is None and self.audio is None:
            wanted = " or ".join(c for c in (relay.video_codec, relay.audio_codec) if c)
            raise OfferRefused(f"the player must accept {wanted}")
        self._connected_at: float | None = None

    @property
    def id(self) -> str:
        return self.peer.id

    async def start(self) -> str:
        answer = await self.peer.accept(self.offer.sdp, self._prepare)
        self.relay.add(self.viewer)
        self.peer.on_end(lambda: self.relay.remove(self.viewer))
        self.peer.watch(self._check, CHECK_INTERVAL)
        return answer

    def _prepare(self) -> None:
        for kind, codec in (("video", self.video), ("audio", self.audio)):
            if codec is None:
                continue
            track = ForwardTrack(kind)
            transceiver = self.peer.add(kind, codec, "sendonly", track)
            send_prepacked(transceiver.sender, self.relay.want_keyframe)
            if kind == "video":
                self.viewer.video = track
            else:
                self.viewer.audio = track

    async def _check(self) -> str | None:
        now = time.monotonic()
        if self._connected_at is None:
            self._connected_at = now
        if now - self.relay.last_frame_at > CHECK_INTERVAL:
            return None  # nothing flows, so nothing is reported: the publisher's watch decides
        heard = self._connected_at
        for transceiver in self.peer.pc.getTransceivers():
            if transceiver.sender.track is None:
                continue
            for stats in (await transceiver.sender.getStats()).values():
                if stats.type == "remote-inbound-rtp":
                    age = (datetime.datetime.now(datetime.UTC) - stats.timestamp).total_seconds()
                    heard = max(heard, now - age)
        if now - heard > VIEWER_SILENCE:
            return f"no receiver report for {VIEWER_SILENCE:.0f} s"
        return None

    async def stop(self, reason: str) -> None:
        await self.peer.end(reason)
