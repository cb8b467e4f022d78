"""A room's HLS packaging: the encoded frames its relay forwards, cut into fMP4 segments of about a
second and listed in a live playlist, with no video decoded or encoded (only Opus becomes AAC).

One ``Packager`` per room lives in the media service, longer than any relay: a new publisher, the
demo taking over, a demo encoder that restarts (its clock starts again) or new parameter sets
(another resolution) end the current *timeline* and start another one, with its own init section,
after a discontinuity, in the same playlist with the same numbering. Names are never reused,
whatever restarts: each packager has a random ``run`` token, and segments and init sections are
numbered within it, so a cache may keep them for hours.

Cutting: a segment starts at a keyframe that comes at least ``CUT_AFTER`` after the segment's
start (a publisher with a 1 s keyframe interval gets 1 s segments; a PLI-provoked keyframe
between does not make a short one). When a segment reaches ``SEGMENT_SECONDS`` without a keyframe,
the publisher is asked for one through the relay (rate-limited there).

Audio and video clocks of a WebRTC publisher have unrelated origins (RTCP sender reports would
relate them; the relay does not see them), so the audio is placed by arrival time: its first
packet after a timeline starts is stamped with the time since the timeline's first keyframe
arrived, and follows its own clock from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import av

from .fmp4 import AUDIO_CLOCK, VIDEO_CLOCK, Fragmenter
from .h264 import ParameterSets, parameter_sets
from .playlist import Segment, render, target_duration, window

if TYPE_CHECKING:
    from .recording import Recorder
    from .relay import Relay

log = logging.getLogger(__name__)

SEGMENT_SECONDS = 1.0  # a segment this long asks for a keyframe to end it
CUT_AFTER = 0.9  # seconds: a keyframe this far into a segment ends it
KEPT = 12  # segments kept in memory: the playlist's window and as many again for late fetchers
STALE_AFTER = 10.0  # seconds after the newest segment's end: the playlist is withheld, not stale
CLOCK_JUMP = 2 * VIDEO_CLOCK  # a jump forward larger than this is a new timeline (the clock restarted)
CLOCK_BACK = VIDEO_CLOCK // 2  # and so is a jump backwards larger than this
HALF_CLOCK = 1 << 31


def _step(timestamp: int, previous: int) -> int:
    """Ticks from ``previous`` to ``timestamp`` on a 32-bit RTP clock, negative if backwards."""
    delta = (timestamp - previous) % (1 << 32)
    return delta - (1 << 32) if delta >= HALF_CLOCK else delta


@dataclass
class _Cut:
    pts: int  # 90 kHz, from the timeline's first keyframe
    wall: float  # epoch seconds when its keyframe arrived


@dataclass(eq=False)
class Timeline:
    """Frames of one source on one clock with one set of parameters: one init section."""

    fragmenter: Fragmenter
    init_name: str
    parameter_sets: ParameterSets
    discontinuity: bool  # its first segment follows another timeline's
    started: float = field(default_factory=time.monotonic)
    video_timestamp: int = 0  # the last RTP timestamp seen, and where it is on our clock
    video_pts: int = 0
    frame_ticks: int = 3000  # the last frame interval: the last segment's duration ends with it
    audio_timestamp: int | None = None
    audio_pts: int = 0
    cuts: deque[_Cut] = field(default_factory=deque)  # segments started, not yet written


class Packager:
    def __init__(self) -> None:
        self.run = secrets.token_hex(4)
        self.source: Relay | None = None
        self.video_codec: str | None = None  # of the source, when it is not one HLS can carry
        self.segments: deque[Segment] = deque()
        self.files: dict[str, bytes] = {}  # segments and init sections by name
        self.target = 1  # EXT-X-TARGETDURATION, seconds; never shrinks
        self.timeline: Timeline | None = None
        self._generation = 0
        self._sequence = 0
        self._discontinuities = 0
        self._playlist: str | None = None
        self._new_segment = asyncio.Event()
        self.requests = {"playlist": 0, "init": 0, "segment": 0}  # served here (behind a cache: its misses)
        self.recorder: Recorder | None = None  # each finished segment is recorded too (recording.py)

    # -- the source ----------------------------------------------------------------------------
    def follow(self, relay: Relay | None) -> None:
        """Package ``relay`` from its next keyframe on (None: nothing, the room is offline)."""
        if relay is self.source:
            return
        self._end_timeline()
        if self.recorder is not None:
            self.recorder.end_run()  # a new source, a new run: the time between is a gap
        self.source = relay
        self.video_codec = relay.video_codec if relay is not None else None

    @property
    def packaging(self) -> bool:
        return self.source is not None and self.video_codec == "h264"

    # -- frames in (from the relay; see FrameSink there) ---------------------------------------
    def on_video(self, relay: Relay, data: bytes, timestamp: int, keyframe: bool) -> None:
        if relay is not self.source or not self.packaging:
            return
        try:
            self._video(relay, data, timestamp, keyframe)
        except Exception:  # whatever a publisher sends, packaging must not break its relay
            log.exception("HLS packaging failed; it starts again at the next keyframe")
            self._end_timeline(flush=False)

    def on_audio(self, relay: Relay, data: bytes, timestamp: int) -> None:
        timeline = self.timeline
        if relay is not self.source or timeline is None or relay.audio_codec != "opus":
            return
        try:
            pts = self._audio_pts(timeline, timestamp)
            self._written(timeline, timeline.fragmenter.add_opus(data, pts))
        except Exception:
            log.exception("HLS audio failed; packaging starts again at the next keyframe")
            self._end_timeline(flush=False)

    def _video(self, relay: Relay, data: bytes, timestamp: int, keyframe: bool) -> None:
        timeline = self.timeline
        if timeline is not None:
            step = _step(timestamp, timeline.video_timestamp)
            if not -CLOCK_BACK <= step <= CLOCK_JUMP:  # the source's clock started again (the demo)
                self._end_timeline()
                timeline = None
            elif keyframe and (sets := parameter_sets(data)) and sets != timeline.parameter_sets:
                self._end_timeline()  # new resolution or codec parameters: a new init section
                timeline = None
        if timeline is None:
            sets = parameter_sets(data) if keyframe else None
            if sets is None:  # a timeline starts at a keyframe that carries its parameter sets
                relay.want_keyframe()
                return
            timeline = self._start_timeline(sets, relay.audio_codec == "opus", timestamp)
            pts = 0
        else:
            step = max(1, _step(timestamp, timeline.video_timestamp))
            timeline.frame_ticks = step
            pts = timeline.video_pts + step
        timeline.video_timestamp, timeline.video_pts = timestamp, pts
        since_cut = pts - timeline.cuts[-1].pts if timeline.cuts else 0
        cut = pts == 0 or (keyframe and since_cut >= CUT_AFTER * VIDEO_CLOCK)
        if cut:
            timeline.cuts.append(_Cut(pts, time.time()))
        elif since_cut >= SEGMENT_SECONDS * VIDEO_CLOCK:
            relay.want_keyframe()
        self._written(timeline, timeline.fragmenter.add_video(data, pts, cut))

    def _audio_pts(self, timeline: Timeline, timestamp: int) -> int:
        if timeline.audio_timestamp is None or abs(_step(timestamp, timeline.audio_timestamp)) > AUDIO_CLOCK * 2:
            pts = int((time.monotonic() - timeline.started) * AUDIO_CLOCK)  # placed by arrival
        else:
            pts = timeline.audio_pts + _step(timestamp, timeline.audio_timestamp)
        timeline.audio_timestamp, timeline.audio_pts = timestamp, pts
        return pts

    # -- timelines and segments ----------------------------------------------------------------
    def _start_timeline(self, sets: ParameterSets, audio: bool, timestamp: int) -> Timeline:
        self._generation += 1
        timeline = Timeline(
            Fragmenter(sets, audio),
            f"init-{self.run}-{self._generation}.mp4",
            sets,
            discontinuity=bool(self.segments),
            video_timestamp=timestamp,
        )
        self.timeline = timeline
        return timeline

    def _end_timeline(self, flush: bool = True) -> None:
        timeline, self.timeline = self.timeline, None
        if timeline is None:
            return
        with contextlib.suppress(av.FFmpegError, ValueError):
            fragments = timeline.fragmenter.close()
            if flush:
                self._written(timeline, fragments)

    def _written(self, timeline: Timeline, fragments: list[bytes]) -> None:
        """Fragments the muxer finished, each the segment that began at the oldest pending cut."""
        if timeline.fragmenter.init is not None:
            self.files.setdefault(timeline.init_name, timeline.fragmenter.init)
        for fragment in fragments:
            if not timeline.cuts:
                log.warning("HLS: a fragment without a cut; dropped")
                continue
            start = timeline.cuts.popleft()
            end = timeline.cuts[0].pts if timeline.cuts else timeline.video_pts + timeline.frame_ticks
            self._add_segment(timeline, fragment, start, (end - start.pts) / VIDEO_CLOCK)

    def _add_segment(self, timeline: Timeline, fragment: bytes, start: _Cut, duration: float) -> None:
        discontinuity = timeline.discontinuity
        timeline.discontinuity = False
        self._discontinuities += discontinuity
        segment = Segment(
            sequence=self._sequence,
            name=f"{self.run}-{self._sequence}.m4s",
            init=timeline.init_name,
            duration=duration,
            started_at=start.wall,
            discontinuity=discontinuity,
            discontinuity_sequence=self._discontinuities,
        )
        self._sequence += 1
        self.segments.append(segment)
        self.files[segment.name] = fragment
        self.target = target_duration([duration], self.target)
        if self.recorder is not None:
            self.recorder.on_segment(segment, fragment, self.files.get(timeline.init_name))
        while len(self.segments) > KEPT:
            self._forget(self.segments.popleft())
        self._playlist = None
        self._new_segment.set()
        self._new_segment = asyncio.Event()

    def _forget(self, segment: Segment) -> None:
        self.files.pop(segment.name, None)
        current = self.timeline.init_name if self.timeline is not None else None
        if segment.init != current and all(kept.init != segment.init for kept in self.segments):
            self.files.pop(segment.init, None)

    # -- what viewers get ------------------------------------------------------------------------
    def playlist(self) -> str | None:
        """The live playlist, or None while there is nothing (recent) to play: a source that starts
        again after a while must not offer what it showed minutes ago as live."""
        if not self.packaging or not self.segments:
            return None
        newest = self.segments[-1]
        if newest.started_at + newest.duration < time.time() - STALE_AFTER:
            return None
        if self._playlist is None:
            self._playlist = render(window(self.segments, self.target), self.target)
        return self._playlist

    async def playlist_soon(self, timeout: float) -> str | None:
        """The playlist, waiting up to ``timeout`` for the first segment of a source just started."""
        deadline = time.monotonic() + timeout
        while self.playlist() is None and self.packaging:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_segment.wait(), remaining)
        return self.playlist()

    @property
    def newest(self) -> int | None:
        """The newest segment's media sequence number, if any."""
        return self.segments[-1].sequence if self.segments else None

    async def playlist_with(self, sequence: int, timeout: float) -> str | None:
        """The playlist once it lists segment ``sequence`` (or a later one), waiting up to
        ``timeout`` for the segment to be made: a blocking playlist reload (live/web/hls.py). None
        if it was not made in time, or the room went offline meanwhile."""
        deadline = time.monotonic() + timeout
        while (newest := self.newest) is None or newest < sequence:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.packaging:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_segment.wait(), remaining)
        return self.playlist()

    def overview(self) -> dict[str, Any]:
        """What the admin sees: whether it packages, and its playlist's position and newest segment."""
        newest = self.segments[-1] if self.segments else None
        last = None if newest is None else {"duration": round(newest.duration, 3), "at": newest.started_at}
        return {
            "packaging": self.packaging,
            "video_codec": self.video_codec,
            "segments": len(self.segments),
            "media_sequence": self.segments[0].sequence if self.segments else None,
            "discontinuity_sequence": self._discontinuities,
            "target_duration": self.target,
            "audio": "aac" if self.timeline is not None and self.timeline.fragmenter.has_audio else None,
            "last_segment": last,
            "requests": dict(self.requests),
        }
