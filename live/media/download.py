"""A session's replay as one MP4 file: its recorded segments remuxed, never re-encoded.

The segments of one init section form a fragmented MP4 once joined behind it; each such group is
demuxed in turn and its packets written into one (unfragmented, ``faststart``) MP4, shifted so
that each group follows the one before: as in the VOD playlist, gaps take no time. An MP4 track
has one set of codec parameters, so groups whose video was encoded with other ones (a publisher
that changed resolution) are left out, and said so in the log: what is downloaded always plays.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from .replay import Listed

log = logging.getLogger(__name__)


def _groups(listed: Sequence[Listed]) -> list[list[Listed]]:
    groups: list[list[Listed]] = []
    for item in listed:
        last = groups[-1][-1] if groups else None
        if last is None or (item.run, item.segment.init) != (last.run, last.segment.init):
            groups.append([])
        groups[-1].append(item)
    return groups


def _joined(run_dir: Path, group: list[Listed], into: Path) -> Path:
    """The group as one fragmented MP4 file: its init section, then its segments."""
    with into.open("wb") as joined:
        for name in [group[0].segment.init, *(item.segment.file for item in group)]:
            with (run_dir / group[0].run / name).open("rb") as part:
                shutil.copyfileobj(part, joined)
    return into


def remux(room_dir: Path, listed: Sequence[Listed], output: Path) -> float:
    """Write ``listed`` (in order) as one MP4 at ``output``; returns the seconds it holds."""
    offset = 0.0  # seconds: where the next group starts in the output
    streams: dict[str, Any] = {}
    extradata: bytes | None = None
    with (
        tempfile.TemporaryDirectory(dir=room_dir, prefix=".download-") as scratch,
        av.open(str(output), "w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        for number, group in enumerate(_groups(listed)):
            source = _joined(room_dir, group, Path(scratch) / f"{number}.mp4")
            with av.open(str(source)) as container:
                video = container.streams.video[0]
                if extradata is None:
                    extradata = bytes(video.codec_context.extradata or b"")
                    streams["video"] = out.add_stream_from_template(video)
                    if container.streams.audio:
                        streams["audio"] = out.add_stream_from_template(container.streams.audio[0])
                elif bytes(video.codec_context.extradata or b"") != extradata:
                    log.warning("download: %s left out (other video parameters)", group[0].segment.init)
                    continue
                offset += _copy(container, out, streams, offset)
    return offset


def _copy(container: Any, out: Any, streams: dict[str, Any], offset: float) -> float:
    """Every packet of ``container`` into the output's streams, moved so that the group's start
    (its earliest packet, audio and video kept as they were against each other) is at ``offset``
    seconds; returns how long the group lasts."""
    start = container.start_time / 1_000_000 if container.start_time is not None else 0.0
    end = 0.0
    for packet in container.demux([s for s in container.streams if s.type in streams]):
        if packet.dts is None or packet.size == 0:
            continue
        time_base: Fraction = packet.stream.time_base
        shift = round((offset - start) / time_base)
        end = max(end, float((packet.dts + (packet.duration or 0)) * time_base) - start)
        packet.dts += shift
        if packet.pts is not None:
            packet.pts += shift
        packet.stream = streams[packet.stream.type]
        out.mux(packet)
    return end
