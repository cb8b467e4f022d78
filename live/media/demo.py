"""``live serve --demo``: a generated stream in every room, so a newcomer sees live video at once.

Each room encodes its pattern once (H.264 constrained baseline, 640x360 at 15 fps, a keyframe a
second; Opus with a beep as the bar starts its sweep) into the same relay a real publisher would
feed, and only while somebody watches: eight idle demo rooms cost nothing, and the first viewer
gets a keyframe within a frame. A real publisher in the room takes precedence over the demo.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import time
from fractions import Fraction

import av

from .pattern import HEIGHT, WIDTH, Pattern
from .relay import Relay

FRAME_RATE = 15
BIT_RATE = 600_000
AUDIO_RATE = 48_000
AUDIO_FRAME = 960  # 20 ms
IDLE_AFTER = 5.0  # seconds without viewers before the encoder stops
HLS_WATCH = 5.0  # seconds an HLS playlist request counts as a viewer (players reload every second)

_TONE = b"".join(
    int(8000 * math.sin(2 * math.pi * 1000 * n / AUDIO_RATE)).to_bytes(2, "little", signed=True)
    for n in range(AUDIO_FRAME)
)
_SILENCE = bytes(2 * AUDIO_FRAME)


def clock_text(zone: dt.tzinfo, at: float) -> str:
    """The pattern's clock: the event's local time (as on its agenda), not the server's zone."""
    return dt.datetime.fromtimestamp(at, zone).strftime("%H:%M:%S")


class DemoSource:
    def __init__(self, title: str, zone: dt.tzinfo = dt.UTC) -> None:
        self.pattern = Pattern(title)
        self.zone = zone
        # Ready from the start: it encodes on demand, and its first frame is a keyframe.
        self.relay = Relay("h264", "opus", request_keyframe=self._keyframe_wanted, ready=True)
        self.started_at = time.time()
        self._wanted = asyncio.Event()
        self._force_keyframe = False
        self._watched_until = 0.0  # by HLS players, who are not the relay's viewers
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="demo")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.relay.close()

    def watch(self) -> None:
        """An HLS player is watching: encode (start now if idle) for HLS_WATCH more seconds."""
        self._watched_until = time.monotonic() + HLS_WATCH
        self._wanted.set()

    def _keyframe_wanted(self) -> None:
        self._force_keyframe = True
        self._wanted.set()

    async def _run(self) -> None:
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            await self._encode_while_watched()

    async def _encode_while_watched(self) -> None:
        video = _video_encoder()
        audio = _audio_encoder()
        origin = time.monotonic()
        audio_samples = 0
        video_frames = 0
        idle_since: float | None = None
        self._force_keyframe = True
        self.relay.gop = []
        while True:
            elapsed = time.monotonic() - origin
            while audio_samples <= elapsed * AUDIO_RATE:
                self._send_audio(audio, audio_samples)
                audio_samples += AUDIO_FRAME
            if video_frames <= elapsed * FRAME_RATE:
                self._send_video(video, video_frames)
                video_frames += 1
            if self.relay.viewers or time.monotonic() < self._watched_until:
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > IDLE_AFTER:
                self.relay.gop = []
                return
            next_audio = audio_samples / AUDIO_RATE
            next_video = video_frames / FRAME_RATE
            await asyncio.sleep(max(0.0, min(next_audio, next_video) - (time.monotonic() - origin)))

    def _send_video(self, encoder: av.VideoCodecContext, number: int) -> None:
        seconds = number / FRAME_RATE
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        frame.planes[0].update(self.pattern.luma(clock_text(self.zone, time.time()), seconds % 1.0))
        frame.planes[1].update(self.pattern.u)
        frame.planes[2].update(self.pattern.v)
        frame.pts = number * (90_000 // FRAME_RATE)
        frame.time_base = Fraction(1, 90_000)
        if self._force_keyframe:
            frame.pict_type = av.video.frame.PictureType.I
            self._force_keyframe = False
        for packet in encoder.encode(frame):
            self.relay.on_video(bytes(packet), int(packet.pts or 0) % (1 << 32))

    def _send_audio(self, encoder: av.AudioCodecContext, samples: int) -> None:
        frame = av.AudioFrame(format="s16", layout="mono", samples=AUDIO_FRAME)
        in_second = samples % AUDIO_RATE
        frame.planes[0].update(_TONE if in_second < AUDIO_RATE // 10 else _SILENCE)
        frame.sample_rate = AUDIO_RATE
        frame.pts = samples
        frame.time_base = Fraction(1, AUDIO_RATE)
        for packet in encoder.encode(frame):
            self.relay.on_audio(bytes(packet), int(packet.pts or 0) % (1 << 32))


def _video_encoder() -> av.VideoCodecContext:
    encoder = av.CodecContext.create("libx264", "w")
    assert isinstance(encoder, av.VideoCodecContext)
    encoder.width, encoder.height, encoder.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    encoder.time_base = Fraction(1, 90_000)
    encoder.framerate = Fraction(FRAME_RATE, 1)
    encoder.bit_rate = BIT_RATE
    encoder.options = {
        "profile": "baseline",
        "preset": "ultrafast",
        "tune": "zerolatency",
        "g": str(FRAME_RATE),
        "bf": "0",
        "threads": "1",
    }
    return encoder


def _audio_encoder() -> av.AudioCodecContext:
    encoder = av.CodecContext.create("libopus", "w")
    assert isinstance(encoder, av.AudioCodecContext)
    encoder.sample_rate = AUDIO_RATE
    encoder.layout = "mono"
    encoder.format = "s16"
    encoder.bit_rate = 32_000
    encoder.time_base = Fraction(1, AUDIO_RATE)
    return encoder
