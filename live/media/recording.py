"""Every room's HLS segments, kept on disk with their wall-clock times: what replays are made of.

The packager (hls.py) hands each room's ``Recorder`` every finished segment with its init section.
The layout, under the recordings directory (``--recordings-dir``, default DATA_DIR/recordings)::

    {room}/{run}/index.jsonl       one JSON line per segment, appended in order
    {room}/{run}/init-….mp4        the init sections the run's segments need
    {room}/{run}/….m4s             the segments, named as the live playlist names them
    {room}/replay.json             admins' replay settings (live/media/replay.py)

A *run* is one unbroken stretch of recording: a process start, or a new source (publisher, demo)
starts a new one, so the time between two runs is a gap. ``run`` names start with the UTC time
they began, so they sort by time. Each segment file is written to a temporary name and renamed,
and only then is its line appended to the index (and flushed): the index never names a file that
is not whole, and a process killed at any moment loses at most the segment being cut (about a
second). Nothing is fsynced: a killed process loses nothing the kernel already holds; a power cut
may lose what the disk had not written yet.

A full disk (any OSError while writing) or the configured size limit stops a room's recording with
an error in the log and in the admin overview; the live stream goes on. Retention removes whole
runs whose last segment is older than the configured days.

Several processes (the Redis engine) share one recordings directory (a shared volume): a room is
recorded by the process hosting its publisher, in run directories of its own (a new process, a
new run), so no two processes ever write one file; every process reads every run, so any of them
serves the replay, lists the recordings and counts their disk use. Segment times are the
recording process's wall clock: the processes' clocks must agree (NTP), as the agenda's do.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .playlist import Segment

log = logging.getLogger(__name__)

INDEX = "index.jsonl"
PRUNE_INTERVAL = 3600.0  # seconds between two retention passes
GAP = 1.5  # seconds between two segments' times that count as a gap in the recording


@dataclass(frozen=True)
class RecordedSegment:
    file: str
    init: str
    start: float  # wall clock, epoch seconds: when its first frame reached the server
    duration: float
    discontinuity: bool  # a new init section or timeline within the run begins here

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass(frozen=True)
class Run:
    name: str
    segments: tuple[RecordedSegment, ...]

    @property
    def start(self) -> float:
        return self.segments[0].start

    @property
    def end(self) -> float:
        return self.segments[-1].end


def read_index(path: Path) -> list[RecordedSegment]:
    """A run's segments; a last line cut short by a killed process is skipped."""
    segments = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            entry = json.loads(line)
            segments.append(
                RecordedSegment(
                    str(entry["file"]),
                    str(entry["init"]),
                    float(entry["start"]),
                    float(entry["duration"]),
                    bool(entry["discontinuity"]),
                )
            )
        except (ValueError, KeyError, TypeError):
            continue
    return segments


def gaps(runs: list[Run]) -> list[dict[str, float]]:
    """Where nothing was recorded between the first segment and the last: between runs, and within
    one where the source paused (a demo nobody watched). Runs by start time (Recordings.runs);
    a short run inside a longer one (two processes recording at once) covers nothing new."""
    found = []
    covered: float | None = None  # the furthest end of the runs so far
    for run in runs:
        previous: RecordedSegment | None = None
        for segment in run.segments:
            # between runs any time is a gap (the source changed); within one, more than jitter
            allowed = 0.0 if previous is None else GAP
            ends = [end for end in (covered, previous.end if previous else None) if end is not None]
            if ends and round(segment.start - max(ends), 3) > allowed:
                found.append({"start": round(max(ends), 3), "end": round(segment.start, 3)})
            previous = segment
        covered = run.end if covered is None else max(covered, run.end)
    return found


@dataclass
class _Counted:
    """What a run's disk use was counted from so far: its index up to ``offset``."""

    offset: int = 0
    files: int = 0  # bytes of the segments and init sections those lines name
    inits: set[str] = field(default_factory=set)

    def add(self, run_dir: Path, line: bytes) -> None:
        try:
            entry = json.loads(line)
            names = [str(entry["file"]), *([str(entry["init"])] if entry["init"] not in self.inits else [])]
            self.inits.add(str(entry["init"]))
        except (ValueError, KeyError, TypeError):
            return
        for name in names:
            with contextlib.suppress(OSError):
                self.files += (run_dir / name).stat().st_size


@dataclass
class Recordings:
    """The recordings directory (shared by every process of a deployment): this process's rooms'
    recorders, the size limit they share, and retention."""

    root: Path
    max_bytes: int = 0  # 0: no limit but the disk's
    keep_days: float = 0.0  # 0: keep everything
    used: dict[str, int] = field(default_factory=dict)  # bytes on disk per room
    _recorders: dict[str, Recorder] = field(default_factory=dict)
    _indexes: dict[Path, tuple[tuple[int, int], list[RecordedSegment]]] = field(default_factory=dict)
    _run_sizes: dict[Path, _Counted] = field(default_factory=dict)
    _pruned_at: float = 0.0

    def recorder(self, room_id: str) -> Recorder:
        if room_id not in self._recorders:
            self.disk_use(room_id)
            self._recorders[room_id] = Recorder(self, room_id)
        return self._recorders[room_id]

    def disk_use(self, room_id: str) -> int:
        """The bytes the room's recordings take, every process's runs included (kept in ``used``),
        from each run's index and the files it names (a segment is written before its line)."""
        directory = self.room_dir(room_id)
        total = 0
        if directory.is_dir():
            for entry in directory.iterdir():
                if entry.is_dir():
                    total += self._run_size(entry)
                elif entry.is_file():
                    total += entry.stat().st_size
        self.used[room_id] = total
        return total

    def _run_size(self, run_dir: Path) -> int:
        """The run's index and the files its lines name, counting only the lines added since the
        last call (a recording run grows every second; an hour of it is thousands of files)."""
        index = run_dir / INDEX
        try:
            size = index.stat().st_size
        except OSError:
            return _size(run_dir)  # not a run: a download's scratch directory
        counted = self._run_sizes.get(run_dir)
        if counted is None or size < counted.offset:
            counted = self._run_sizes[run_dir] = _Counted()
        if size > counted.offset:
            with index.open("rb") as lines:
                lines.seek(counted.offset)
                added = lines.read(size - counted.offset)
            added = added[: added.rfind(b"\n") + 1]  # a line still being written is counted later
            counted.offset += len(added)
            for line in added.splitlines():
                counted.add(run_dir, line)
        return size + counted.files

    def room_dir(self, room_id: str) -> Path:
        return self.root / room_id

    def runs(self, room_id: str) -> list[Run]:
        """The room's runs with at least one segment, whichever process wrote them, by their first
        segment's time (two processes may start runs within the same second)."""
        directory = self.room_dir(room_id)
        if not directory.is_dir():
            return []
        found = []
        for run_dir in directory.iterdir():
            segments = self._index(run_dir / INDEX) if run_dir.is_dir() else []
            if segments:
                found.append(Run(run_dir.name, tuple(segments)))
        return sorted(found, key=lambda run: (run.start, run.name))

    def _index(self, path: Path) -> list[RecordedSegment]:
        """A run's index, read again only when it changed (every replay request reads them)."""
        try:
            stat = path.stat()
        except OSError:
            return []
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._indexes.get(path)
        if cached is None or cached[0] != key:
            cached = self._indexes[path] = (key, read_index(path))
        return cached[1]

    def total(self) -> int:
        return sum(self.used.values())

    def prune(self, now: float | None = None) -> None:
        """Remove runs that ended more than ``keep_days`` ago (at most once an hour unless ``now``
        is given, which tests do)."""
        current = time.time() if now is None else now
        if self.keep_days <= 0 or (now is None and current - self._pruned_at < PRUNE_INTERVAL):
            return
        self._pruned_at = current
        for room_id in self.used:
            active = self._recorders[room_id].run_dir if room_id in self._recorders else None
            for run in self.runs(room_id):
                run_dir = self.room_dir(room_id) / run.name
                if run_dir != active and run.end < current - self.keep_days * 86400:
                    shutil.rmtree(run_dir, ignore_errors=True)
                    self._run_sizes.pop(run_dir, None)
                    self._indexes.pop(run_dir / INDEX, None)
                    log.info("recording %s/%s removed: older than %s days", room_id, run.name, self.keep_days)
            self.disk_use(room_id)


class Recorder:
    """One room's recording: the packager's segments, appended to the current run."""

    def __init__(self, recordings: Recordings, room_id: str) -> None:
        self.recordings = recordings
        self.room_id = room_id
        self.run_dir: Path | None = None
        self.error: str | None = None
        self.segments = 0  # recorded by this process
        self._inits: set[str] = set()

    def end_run(self) -> None:
        """The source changed (or went away): the next segment starts a new run."""
        self.run_dir = None
        self._inits = set()

    def on_segment(self, segment: Segment, data: bytes, init: bytes | None) -> None:
        """Record a finished segment; never raises (the live stream must go on)."""
        if self.error is not None or init is None:
            return
        try:
            self._record(segment, data, init)
        except OSError as error:
            self._stop(f"recording stopped: cannot write to {self.recordings.room_dir(self.room_id)}: {error}")

    def _record(self, segment: Segment, data: bytes, init: bytes) -> None:
        limit = self.recordings.max_bytes
        if limit and self.recordings.total() + len(data) + len(init) > limit:
            self._stop(f"recording stopped: the recordings reached their size limit ({limit} bytes)")
            return
        if self.run_dir is None:
            self.recordings.prune()
            for room_id in self.recordings.used:  # what other processes wrote since counts too
                self.recordings.disk_use(room_id)
            self.run_dir = self._new_run_dir()
        written = 0
        if segment.init not in self._inits:
            written += _write_atomically(self.run_dir / segment.init, init)
            self._inits.add(segment.init)
        written += _write_atomically(self.run_dir / segment.name, data)
        line = {
            "file": segment.name,
            "init": segment.init,
            "start": round(segment.started_at, 3),
            "duration": round(segment.duration, 3),
            "discontinuity": segment.discontinuity,
        }
        with (self.run_dir / INDEX).open("a", encoding="utf-8") as index:
            written += index.write(json.dumps(line, separators=(",", ":")) + "\n")
        self.recordings.used[self.room_id] = self.recordings.used.get(self.room_id, 0) + written
        self.segments += 1

    def _new_run_dir(self) -> Path:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        run_dir = self.recordings.room_dir(self.room_id) / f"{stamp}-{secrets.token_hex(3)}"
        run_dir.mkdir(parents=True)
        return run_dir

    def _stop(self, message: str) -> None:
        self.error = message
        self.end_run()
        log.error("room %s: %s; the live stream goes on", self.room_id, message)

    def overview(self) -> dict[str, Any]:
        """What the admin sees: whether it records, where, why not, and the disk it takes."""
        return {
            "recording": self.error is None and self.run_dir is not None,
            "run": self.run_dir.name if self.run_dir is not None else None,
            "error": self.error,
            "segments": self.segments,
            "bytes": self.recordings.disk_use(self.room_id),
            "limit_bytes": self.recordings.max_bytes or None,
            "keep_days": self.recordings.keep_days or None,
        }


def _write_atomically(path: Path, data: bytes) -> int:
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
    return len(data)


def _size(directory: Path) -> int:
    if not directory.is_dir():
        return 0
    return sum(entry.stat().st_size for entry in directory.rglob("*") if entry.is_file())
