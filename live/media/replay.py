"""A session's replay: the recorded segments over its time range, as an HLS VOD playlist (RFC 8216),
where each moment of the session is in it, and the admins' settings for it.

The playlist lists every recorded segment that overlaps the range (so it covers the range to
within a segment at each end), each run with its own ``EXT-X-MAP``, an ``EXT-X-DISCONTINUITY``
wherever a run, an init section or a timeline changes, and ``EXT-X-PROGRAM-DATE-TIME`` on every
segment. A player's time is the sum of the listed durations: gaps between runs take no time, so a
moment is turned into a position by ``position`` (a moment in a gap is the first picture after it).

Replay settings (hidden, start and end offsets) are a small JSON file per room beside its
recordings, written atomically: they belong to the recordings, not to the room's live state, and
a deployment that shares recordings between processes shares this file with them.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from ..config import Room, Session
from .playlist import _date_time, target_duration
from .recording import RecordedSegment, Recordings

SETTINGS_FILE = "replay.json"
MAX_OFFSET = 6 * 3600.0  # seconds an admin may move a replay's start or end
OVERLAP = 0.25  # seconds two runs may overlap (clock jitter) before the later one's segment is left out


@dataclass(frozen=True)
class ReplaySettings:
    hidden: bool = False
    start_offset: float = 0.0  # seconds added to the session's start (positive: later)
    end_offset: float = 0.0  # seconds added to its end

    @classmethod
    def parse(cls, raw: object) -> ReplaySettings:
        """From an admin's JSON body or the settings file; raises ValueError with a sentence."""
        if not isinstance(raw, dict) or set(raw) - {"hidden", "start_offset", "end_offset"}:
            raise ValueError('send {"hidden": false, "start_offset": 0, "end_offset": 0}')
        hidden = raw.get("hidden", False)
        offsets = [raw.get("start_offset", 0), raw.get("end_offset", 0)]
        if not isinstance(hidden, bool):
            raise ValueError("hidden must be true or false")
        if not all(isinstance(o, int | float) and not isinstance(o, bool) and abs(o) <= MAX_OFFSET for o in offsets):
            raise ValueError(f"offsets are seconds, at most {MAX_OFFSET:.0f} either way")
        return cls(hidden, float(offsets[0]), float(offsets[1]))


def load_settings(recordings: Recordings, room_id: str) -> dict[str, ReplaySettings]:
    try:
        raw = json.loads((recordings.room_dir(room_id) / SETTINGS_FILE).read_text(encoding="utf-8"))
        return {str(session_id): ReplaySettings.parse(value) for session_id, value in raw.items()}
    except (OSError, ValueError, AttributeError):
        return {}


def save_settings(recordings: Recordings, room_id: str, session_id: str, settings: ReplaySettings) -> None:
    every = load_settings(recordings, room_id)
    every[session_id] = settings
    directory = recordings.room_dir(room_id)
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f".{SETTINGS_FILE}.tmp"
    temporary.write_text(json.dumps({k: asdict(v) for k, v in every.items()}, indent=1), encoding="utf-8")
    os.replace(temporary, directory / SETTINGS_FILE)


@dataclass(frozen=True)
class Range:
    """A session's replay: its time range (epoch seconds) with the admin's offsets and settings."""

    start: float
    end: float
    settings: ReplaySettings

    @property
    def over(self) -> bool:
        return time.time() >= self.end


def session_range(recordings: Recordings, zone: ZoneInfo, room_id: str, session: Session) -> Range:
    settings = load_settings(recordings, room_id).get(session.session_id) or ReplaySettings()
    start = session.start.replace(tzinfo=zone).timestamp() + settings.start_offset
    end = session.end.replace(tzinfo=zone).timestamp() + settings.end_offset
    return Range(start, max(start, end), settings)


def moment_in_replay(
    recordings: Recordings,
    zone: ZoneInfo,
    room: Room,
    moment: float,
    selected: dict[tuple[str, str], list[Listed]] | None = None,
) -> tuple[str, float] | None:
    """The session whose replay shows ``moment`` and where in it (seconds), if one was recorded:
    an export's replay link (hidden replays too: exports are for the organisers). ``selected``
    keeps each session's segments between calls: an export asks for every question."""
    selected = {} if selected is None else selected
    for session in room.sessions:
        span = session_range(recordings, zone, room.slug, session)
        if span.start <= moment <= span.end:
            key = (room.slug, session.session_id)
            if key not in selected:
                selected[key] = select(recordings, room.slug, span.start, span.end)
            at = position(selected[key], moment) if selected[key] else None
            return None if at is None else (session.session_id, at)
    return None


@dataclass(frozen=True)
class Listed:
    run: str
    segment: RecordedSegment

    @property
    def uri(self) -> str:
        return f"{self.run}/{self.segment.file}"


def select(recordings: Recordings, room_id: str, start: float, end: float) -> list[Listed]:
    """The room's recorded segments that overlap [start, end), in order, every process's runs
    together. Where two runs overlap (for the second or so before a process whose publisher was
    replaced ends it: the newest publisher wins), the later run's segments begin once the earlier
    one's end, so no moment plays twice."""
    chosen: list[Listed] = []
    for run in recordings.runs(room_id):
        if run.start >= end or run.end <= start:
            continue
        for segment in run.segments:
            last = chosen[-1] if chosen else None
            overlaps = last is not None and last.run != run.name and segment.start < last.segment.end - OVERLAP
            if segment.start < end and segment.end > start and not overlaps:
                chosen.append(Listed(run.name, segment))
    return chosen


def vod_playlist(listed: Sequence[Listed]) -> str:
    target = target_duration([item.segment.duration for item in listed])
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:0",
    ]
    previous: Listed | None = None
    for item in listed:
        if previous is not None and (
            item.run != previous.run or item.segment.init != previous.segment.init or item.segment.discontinuity
        ):
            lines.append("#EXT-X-DISCONTINUITY")
        if previous is None or item.run != previous.run or item.segment.init != previous.segment.init:
            lines.append(f'#EXT-X-MAP:URI="{item.run}/{item.segment.init}"')
        lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{_date_time(item.segment.start)}")
        lines.append(f"#EXTINF:{item.segment.duration:.3f},")
        lines.append(item.uri)
        previous = item
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def position(listed: Sequence[Listed], moment: float) -> float | None:
    """Where ``moment`` (epoch seconds) is in the replay, in seconds from its start; a moment in a
    gap (or before the first segment) is the first picture after it; None: after the last one."""
    elapsed = 0.0
    for item in listed:
        segment = item.segment
        if moment < segment.start:
            return round(elapsed, 3)
        if moment < segment.end:
            return round(elapsed + moment - segment.start, 3)
        elapsed += segment.duration
    return None


def duration(listed: Sequence[Listed]) -> float:
    return round(sum(item.segment.duration for item in listed), 3)


def run_files(recordings: Recordings, room_id: str, run: str) -> Path:
    return recordings.room_dir(room_id) / run
