"""The one transcode HLS packaging allows: a room's Opus audio to AAC, so that Safari and iOS play
the stream natively (their HLS players take AAC in fMP4; Opus in fMP4 they mostly do not).

Opus packets are decoded, resampled to 48 kHz stereo and encoded as AAC-LC at 128 kbit/s, once
per room whatever the number of viewers. The encoder's output is stamped on a sample clock of its
own, started at the first packet's time; a gap in the input (a publisher that sends no packets
during silence, Opus DTX) is filled with silence so that the audio stays in step with the video.
"""

from __future__ import annotations

from fractions import Fraction

import av

RATE = 48_000
BIT_RATE = 128_000
LONGEST_FILL = RATE * 2  # samples of silence inserted at most; a longer gap is a new timeline


class AacEncoder:
    """Opus packets in, AAC packets (raw, 1,024 samples each) out, both stamped at 48 kHz."""

    def __init__(self, encoder: av.AudioCodecContext) -> None:
        """``encoder``: an AAC encoder, the muxer's stream's own (so that its parameters and its
        AudioSpecificConfig reach the init section)."""
        self._decoder = av.CodecContext.create("opus", "r")
        self._encoder = encoder
        self._encoder.sample_rate = RATE
        self._encoder.layout = "stereo"
        self._encoder.format = "fltp"
        self._encoder.bit_rate = BIT_RATE
        self._encoder.time_base = Fraction(1, RATE)
        self._encoder.open()
        self._resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
        self._next: int | None = None  # the sample clock: where the next decoded sample goes

    def encode(self, opus: bytes, timestamp: int) -> list[tuple[bytes, int]]:
        """AAC packets and their timestamps (samples, on the caller's clock) for one Opus packet."""
        packet = av.Packet(opus)
        packet.pts = packet.dts = timestamp
        packet.time_base = Fraction(1, RATE)
        out: list[tuple[bytes, int]] = []
        for decoded in self._decoder.decode(packet):
            for frame in self._resampler.resample(decoded):
                out += self._encode_at(frame, timestamp)
        return out

    def _encode_at(self, frame: av.AudioFrame, timestamp: int) -> list[tuple[bytes, int]]:
        if self._next is None or timestamp - self._next > LONGEST_FILL:
            self._next = timestamp  # the first packet, or a gap too long to fill: a new timeline
        gap = timestamp - self._next
        out: list[tuple[bytes, int]] = []
        if gap >= frame.samples:  # packets missing: silence, so that later audio stays in step
            out += self._encode_one(_silence(gap))
        out += self._encode_one(frame)  # a little early (jitter): it follows on, without a gap
        return out

    def _encode_one(self, frame: av.AudioFrame) -> list[tuple[bytes, int]]:
        assert self._next is not None
        frame.pts = self._next
        frame.time_base = Fraction(1, RATE)
        self._next += frame.samples
        return [(bytes(packet), int(packet.pts or 0)) for packet in self._encoder.encode(frame)]


def _silence(samples: int) -> av.AudioFrame:
    frame = av.AudioFrame(format="fltp", layout="stereo", samples=samples)
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    frame.sample_rate = RATE
    return frame
