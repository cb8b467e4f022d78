"""A WebRTC peer connection as both WHIP and WHEP sessions use it: the offer in, the answer out,
codecs limited to what the relay forwards, and a clean end however the other side leaves."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.rtcrtpparameters import RTCRtpCodecCapability

from .passthrough import prepare_connection, repeat_client_hello

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 15.0  # seconds from the answer to a working connection


def codec_preferences(kind: str, name: str) -> list[RTCRtpCodecCapability]:
    """aiortc's capabilities for one codec (every H.264 variant it knows) plus retransmissions."""
    codecs = RTCRtpSender.getCapabilities(kind).codecs
    wanted = (f"{kind}/{name}", "video/rtx")
    return [codec for codec in codecs if codec.mimeType.lower() in wanted]


class Peer:
    """One session: an id for its URL, a peer connection, and a task that ends it when it fails.

    ``watch`` is the session's own liveness check, run every ``interval`` seconds once connected;
    it returns a reason to end the session, or None.
    """

    def __init__(self, kind: str) -> None:
        self.id = secrets.token_urlsafe(16)
        self.kind = kind  # "publisher" or "viewer", for logs
        # No ICE servers: aiortc would otherwise ask Google's STUN server for every session. Each
        # side offers its own addresses; a venue server needs an address publishers and viewers reach.
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        prepare_connection(self.pc)
        self.created = time.monotonic()
        self.connected = asyncio.Event()
        self.ended = asyncio.Event()
        self._on_end: list[Callable[[], Awaitable[None] | None]] = []
        self._watcher: asyncio.Task[None] | None = None
        self.pc.on("connectionstatechange", self._state_changed)

    def on_end(self, callback: Callable[[], Awaitable[None] | None]) -> None:
        self._on_end.append(callback)

    def transceivers(self, kind: str) -> list[RTCRtpTransceiver]:
        return [t for t in self.pc.getTransceivers() if t.kind == kind]

    def add(self, kind: str, codec: str, direction: str, track: MediaStreamTrack | None = None) -> RTCRtpTransceiver:
        """A transceiver for the offer's section of this kind, limited to one codec."""
        transceiver = self.pc.addTransceiver(track or kind, direction=direction)
        transceiver.setCodecPreferences(codec_preferences(kind, codec))
        return transceiver

    async def accept(self, offer_sdp: str, prepare: Callable[[], None]) -> str:
        """Let ``prepare`` add transceivers (aiortc matches the offer's first section of each kind
        to them and keeps only their preferred codecs), apply the offer, and return the answer SDP
        with every local candidate: neither side trickles."""
        prepare()
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        repeat_client_hello(self.pc)  # FFmpeg's default loses the first (passthrough.py)
        return str(self.pc.localDescription.sdp)

    def watch(self, check: Callable[[], Awaitable[str | None]], interval: float) -> None:
        self._watcher = asyncio.create_task(self._watch(check, interval), name=f"{self.kind}-{self.id}")

    async def _watch(self, check: Callable[[], Awaitable[str | None]], interval: float) -> None:
        try:
            await asyncio.wait_for(self.connected.wait(), CONNECT_TIMEOUT)
        except TimeoutError:
            await self.end("did not connect")
            return
        while not self.ended.is_set():
            await asyncio.sleep(interval)
            reason = await check()
            if reason is not None:
                await self.end(reason)
                return

    async def _state_changed(self) -> None:
        state = self.pc.connectionState
        if state == "connected":
            self.connected.set()
        elif state in ("failed", "closed"):
            await self.end(f"connection {state}")

    async def end(self, reason: str) -> None:
        """Close the connection and run the session's end callbacks, once."""
        if self.ended.is_set():
            return
        self.ended.set()
        log.info("%s %s ended: %s", self.kind, self.id, reason)
        for callback in self._on_end:
            result = callback()
            if result is not None:
                await result
        with contextlib.suppress(Exception):
            await self.pc.close()
        if self._watcher is not None and self._watcher is not asyncio.current_task():
            self._watcher.cancel()
