"""A room's live HLS media playlist (RFC 8216), written from the segments the packager keeps.

The rules it keeps, from the RFC: every segment's duration, rounded to the nearest second, is at
most ``EXT-X-TARGETDURATION`` (4.3.3.1), and the target never shrinks while the playlist lives;
``EXT-X-MEDIA-SEQUENCE`` is the first listed segment's number and ``EXT-X-DISCONTINUITY-SEQUENCE``
counts the discontinuities that have left the window (6.2.2); a segment after a discontinuity
(new parameter sets, or a new publisher) carries ``EXT-X-DISCONTINUITY`` and the ``EXT-X-MAP``
of its own init section; the window is never shorter than three target durations (6.2.2).
Every segment carries ``EXT-X-PROGRAM-DATE-TIME``: when its first frame reached the server.
``EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES`` (RFC 8216bis 4.4.3.8; no protocol version of its own)
tells players they may ask for the playlist that holds a segment not yet made (``_HLS_msn``,
live/web/hls.py): each reload is then a URL of its own, answered as soon as its segment exists.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

WINDOW = 6  # segments listed at least; more while six are shorter than three target durations
MINIMUM_TARGET = 1


@dataclass(frozen=True)
class Segment:
    sequence: int  # the media sequence number
    name: str  # its file name under .../hls/
    init: str  # the init section it needs (EXT-X-MAP)
    duration: float  # seconds
    started_at: float  # wall clock (epoch seconds) when its first frame arrived
    discontinuity: bool  # the first segment of a new init section or source
    discontinuity_sequence: int  # discontinuities since the playlist began, this one's included


def target_duration(durations: Sequence[float], previous: int = MINIMUM_TARGET) -> int:
    """The smallest whole number of seconds that no rounded duration exceeds, never less than before."""
    # Rounded as the playlist prints them (EXTINF has three decimals): 1.4996 is listed as 1.500.
    longest = max((math.floor(round(duration, 3) + 0.5) for duration in durations), default=0)
    return max(previous, MINIMUM_TARGET, longest)


def window(segments: Sequence[Segment], target: int) -> list[Segment]:
    """The newest segments to list: at least WINDOW of them and three target durations."""
    chosen: list[Segment] = []
    total = 0.0
    for segment in reversed(segments):
        if len(chosen) >= WINDOW and total >= 3 * target:
            break
        chosen.append(segment)
        total += segment.duration
    return chosen[::-1]


def render(listed: Sequence[Segment], target: int) -> str:
    """The playlist text. A discontinuity at the first listed segment is counted in the sequence,
    not tagged: its tag has, for the player, already gone by."""
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES",
        f"#EXT-X-MEDIA-SEQUENCE:{listed[0].sequence if listed else 0}",
        f"#EXT-X-DISCONTINUITY-SEQUENCE:{listed[0].discontinuity_sequence if listed else 0}",
    ]
    init = None
    for index, segment in enumerate(listed):
        if segment.discontinuity and index > 0:
            lines.append("#EXT-X-DISCONTINUITY")
        if segment.init != init:
            init = segment.init
            lines.append(f'#EXT-X-MAP:URI="{init}"')
        lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{_date_time(segment.started_at)}")
        lines.append(f"#EXTINF:{segment.duration:.3f},")
        lines.append(segment.name)
    return "\n".join(lines) + "\n"


def _date_time(epoch_seconds: float) -> str:
    moment = dt.datetime.fromtimestamp(epoch_seconds, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
