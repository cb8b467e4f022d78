"""Fragmented MP4 (CMAF-style) from encoded frames, by FFmpeg's MP4 muxer through PyAV: packets
go in as they were received (H.264 Annex B, converted to length-prefixed samples by the muxer; AAC
from ``aac.py``), nothing is decoded.

One ``Fragmenter`` lives as long as one init section: the same parameter sets and audio config.
Its output is the init section (``ftyp`` + ``moov``) and then one ``moof`` + ``mdat`` fragment per
segment: the muxer (``frag_keyframe``) starts a fragment at each video packet flagged as a
keyframe, so the caller flags only the keyframes it cuts at (the others are muxed as ordinary
samples: a keyframe a viewer's PLI provoked does not make a short segment). ``flush_packets``
makes every finished fragment reach us at once; ``max_interleave_delta`` keeps the muxer from
holding video for long when audio stalls.
"""

from __future__ import annotations

from fractions import Fraction

import av

from .aac import RATE, AacEncoder
from .h264 import ParameterSets

VIDEO_CLOCK = 90_000
AUDIO_CLOCK = RATE
OPTIONS = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof+skip_trailer",
    "flush_packets": "1",
    "max_interleave_delta": "500000",  # microseconds
}


class _Output:
    """A write-only file for the muxer (no seek: the muxer then never rewrites what it wrote)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, chunk: bytes) -> int:
        self.data += chunk
        return len(chunk)


class Fragmenter:
    def __init__(self, video: ParameterSets, audio: bool) -> None:
        """``video``: the parameter sets of the first keyframe, which carries them in band (the
        muxer's ``avcC`` is built from them); ``audio``: whether there is Opus to add as AAC."""
        self._output = _Output()
        self._container = av.open(self._output, "w", format="mp4", options=OPTIONS)
        width, height = video.size()
        self._video = self._container.add_mux_stream("h264", width=width, height=height)
        self._video.time_base = Fraction(1, VIDEO_CLOCK)
        self._audio: av.AudioStream | None = None
        self._aac: AacEncoder | None = None
        if audio:
            self._audio = self._container.add_stream("aac", rate=AUDIO_CLOCK, layout="stereo")
            self._audio.time_base = Fraction(1, AUDIO_CLOCK)
            self._aac = AacEncoder(self._audio.codec_context)
        self.init: bytes | None = None
        self._closed = False

    @property
    def has_audio(self) -> bool:
        return self._audio is not None

    def add_video(self, access_unit: bytes, pts: int, cut: bool) -> list[bytes]:
        """Mux one access unit (``cut``: it starts a fragment); returns the fragments finished."""
        return self._mux(self._video, access_unit, pts, cut)

    def add_opus(self, packet: bytes, pts: int) -> list[bytes]:
        """Transcode one Opus packet (``pts`` at 48 kHz) and mux the AAC that comes out."""
        if self._audio is None or self._aac is None:
            return []
        fragments = []
        for frame, frame_pts in self._aac.encode(packet, pts):
            if frame_pts >= 0:  # the encoder's priming frame, stamped before the stream's start
                fragments += self._mux(self._audio, frame, frame_pts, True)
        return fragments

    def close(self) -> list[bytes]:
        """The last fragment, finished as it is."""
        if self._closed:
            return []
        self._closed = True
        self._container.close()
        return self._take()

    def _mux(self, stream: av.stream.Stream, data: bytes, pts: int, key: bool) -> list[bytes]:
        packet = av.Packet(data)
        packet.pts = packet.dts = pts
        packet.time_base = Fraction(1, VIDEO_CLOCK if stream is self._video else AUDIO_CLOCK)
        packet.stream = stream
        packet.is_keyframe = key
        self._container.mux(packet)
        return self._take()

    def _take(self) -> list[bytes]:
        """Complete top-level boxes written so far: the init section once, then each fragment."""
        fragments = []
        data = self._output.data
        position = 0
        while True:
            boxes = _boxes(data, position, 2)
            if boxes is None:
                break
            (first, _), (_, end) = boxes
            kinds = (bytes(data[first + 4 : first + 8]), bytes(data[boxes[1][0] + 4 : boxes[1][0] + 8]))
            if kinds == (b"ftyp", b"moov"):
                self.init = bytes(data[first:end])
            elif kinds == (b"moof", b"mdat"):
                fragments.append(bytes(data[first:end]))
            else:
                raise ValueError(f"unexpected boxes from the MP4 muxer: {kinds!r}")
            position = end
        del data[:position]
        return fragments


def _boxes(data: bytearray, position: int, count: int) -> list[tuple[int, int]] | None:
    """The (start, end) of the next ``count`` boxes, or None while they are not all complete."""
    found = []
    for _ in range(count):
        if len(data) < position + 8:
            return None
        size = int.from_bytes(data[position : position + 4], "big")
        if size < 8 or len(data) < position + size:
            return None
        found.append((position, position + size))
        position += size
    return found
