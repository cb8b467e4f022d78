"""Recording: the packager's segments kept on disk with their times (live/media/recording.py), runs
and gaps, a cut-short index, the size limit and an unwritable disk stopping recording while the
live playlist goes on, and retention; the end-to-end tests against a real ``live serve`` (an
FFmpeg publisher, a kill -9, a size limit) are in tests/test_replay.py."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import av
import pytest

from live.media.hls import Packager
from live.media.recording import INDEX, Recordings, gaps, read_index
from live.media.relay import Relay
from tests.test_hls import feed, h264_frames, opus_packets


def packager_recording(recordings: Recordings) -> tuple[Packager, Relay]:
    relay = Relay("h264", "opus", request_keyframe=lambda: None)
    packager = Packager()
    packager.recorder = recordings.recorder("main")
    relay.sinks.append(packager)
    packager.follow(relay)
    return packager, relay


def test_segments_are_recorded_with_their_init_sections_and_times_and_decode(tmp_path: Path) -> None:
    recordings = Recordings(tmp_path / "recordings")
    packager, relay = packager_recording(recordings)
    before = time.time()
    feed(relay, h264_frames(320, 180, seconds=4.2), opus_packets(4.2))
    [run] = recordings.runs("main")
    assert len(run.segments) == len(packager.segments) >= 3
    run_dir = tmp_path / "recordings" / "main" / run.name
    for recorded, live in zip(run.segments, packager.segments, strict=False):
        assert (recorded.file, recorded.init) == (live.name, live.init)
        assert recorded.start == pytest.approx(live.started_at, abs=0.001) and before <= recorded.start
        data = (run_dir / recorded.init).read_bytes() + (run_dir / recorded.file).read_bytes()
        with av.open(io.BytesIO(data)) as container:
            assert len(list(container.decode(video=0))) == 30  # a second at 30 fps
    assert not list(run_dir.glob(".*.tmp"))  # every file whole, under its own name
    overview = packager.recorder.overview() if packager.recorder else {}
    assert overview["recording"] is True and overview["error"] is None
    assert overview["bytes"] == sum(p.stat().st_size for p in run_dir.iterdir())


def test_a_new_source_starts_a_new_run_and_the_time_between_is_a_gap(tmp_path: Path) -> None:
    recordings = Recordings(tmp_path)
    packager, relay = packager_recording(recordings)
    feed(relay, h264_frames(320, 180, seconds=2.2))
    packager.follow(None)  # the publisher left
    time.sleep(4.0)  # fed at once, 2.2 s of media: its recorded end is 2.2 s after its start
    second = Relay("h264", None, request_keyframe=lambda: None)
    second.sinks.append(packager)
    packager.follow(second)
    feed(second, h264_frames(320, 180, seconds=2.2))
    packager.follow(None)
    first, later = recordings.runs("main")
    assert first.name < later.name and first.end <= later.start
    [gap] = gaps([first, later])
    assert gap == {"start": round(first.end, 3), "end": round(later.start, 3)} and gap["end"] - gap["start"] > 1.5


def test_an_index_line_cut_short_by_a_killed_process_is_skipped(tmp_path: Path) -> None:
    line = {"file": "a-0.m4s", "init": "init-a-1.mp4", "start": 1.0, "duration": 1.0, "discontinuity": False}
    (tmp_path / INDEX).write_text(json.dumps(line) + "\n" + json.dumps(line)[:30])
    assert [segment.file for segment in read_index(tmp_path / INDEX)] == ["a-0.m4s"]


def test_the_size_limit_stops_recording_with_an_error_and_the_live_stream_goes_on(tmp_path: Path) -> None:
    recordings = Recordings(tmp_path)
    packager, relay = packager_recording(recordings)
    frames = h264_frames(320, 180, seconds=8.2)
    feed(relay, frames[:90])  # three seconds recorded...
    assert packager.recorder is not None and packager.recorder.segments >= 2
    recorded, limit = packager.recorder.segments, recordings.total() + 100  # ...then no room for another
    recordings.max_bytes = limit
    feed(relay, frames[90:])
    overview = packager.recorder.overview()
    assert overview["recording"] is False and f"size limit ({limit} bytes)" in overview["error"]
    assert overview["segments"] == recorded and overview["bytes"] <= limit
    assert packager.playlist() is not None and packager.segments[-1].sequence >= 6  # live goes on


def test_a_disk_that_cannot_be_written_stops_recording_and_the_live_stream_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "main").write_text("a file where the room's directory should be")
    packager, relay = packager_recording(Recordings(tmp_path))
    feed(relay, h264_frames(320, 180, seconds=3.2))
    assert packager.recorder is not None and "cannot write to" in (packager.recorder.overview()["error"] or "")
    assert "the live stream goes on" in caplog.text
    assert packager.playlist() is not None


def test_retention_removes_runs_older_than_its_days_and_keeps_the_rest(tmp_path: Path) -> None:
    recordings = Recordings(tmp_path, keep_days=1)
    packager, relay = packager_recording(recordings)
    feed(relay, h264_frames(320, 180, seconds=2.2))
    packager.follow(None)
    [run] = recordings.runs("main")
    recordings.prune(now=run.end + 3600)
    assert recordings.runs("main") == [run]
    recordings.prune(now=run.end + 86400 + 1)
    assert recordings.runs("main") == [] and recordings.used["main"] == 0


def write_run(root: Path, name: str, start: float, count: int, size: int = 1000) -> Path:
    """A run as another process sharing the directory would leave it: files, then index lines."""
    run_dir = root / "main" / name
    run_dir.mkdir(parents=True)
    (run_dir / "init-a-1.mp4").write_bytes(b"i" * 100)
    with (run_dir / INDEX).open("a") as index:
        for n in range(count):
            (run_dir / f"a-{n}.m4s").write_bytes(b"s" * size)
            line = {"file": f"a-{n}.m4s", "init": "init-a-1.mp4", "start": start + n, "duration": 1.0,
                    "discontinuity": False}  # fmt: skip
            index.write(json.dumps(line) + "\n")
    return run_dir


def on_disk(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def test_runs_of_several_processes_are_read_in_time_order_and_their_disk_use_counted(tmp_path: Path) -> None:
    recordings = Recordings(tmp_path)
    assert recordings.disk_use("main") == 0
    # two processes starting runs within one second: the names' random tails do not order them
    write_run(tmp_path, "20260101T000000Z-ff", 1000.0, 2)
    write_run(tmp_path, "20260101T000000Z-00", 1002.4, 2)
    runs = recordings.runs("main")
    assert [run.name for run in runs] == ["20260101T000000Z-ff", "20260101T000000Z-00"]
    assert gaps(runs) == [{"start": 1002.0, "end": 1002.4}]  # between runs even 0.4 s is a gap
    assert recordings.disk_use("main") == on_disk(tmp_path) > 2 * (100 + 2 * 1000)
    later = write_run(tmp_path, "20260101T000010Z-aa", 1010.0, 1)  # another process records on
    assert recordings.disk_use("main") == on_disk(tmp_path) == recordings.used["main"]
    grown = on_disk(tmp_path)
    (later / "a-1.m4s").write_bytes(b"s" * 1000)
    with (later / INDEX).open("a") as index:
        index.write(json.dumps({"file": "a-1.m4s", "init": "init-a-1.mp4", "start": 1011.0, "duration": 1.0,
                                "discontinuity": False}) + "\n")  # fmt: skip
    assert recordings.disk_use("main") == on_disk(tmp_path) > grown + 1000  # counted again once it grew


def test_only_a_moderators_video_status_counts_the_recordings_disk_use(
    serve_live,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """GET /api/rooms/{room}/video is public, and counting the disk use reads every run of the
    room's directory: only those who are shown the recording make the server count it."""
    from tests.conftest import MODERATOR_KEY
    from tests.livetools import Person

    server = serve_live()
    recordings = server.server.config.app.state.service.media.recordings
    assert recordings is not None
    counted: list[str] = []
    real = recordings.disk_use

    def disk_use(room_id: str) -> int:
        counted.append(room_id)
        return real(room_id)

    monkeypatch.setattr(recordings, "disk_use", disk_use)
    viewer, moderator = Person(server), Person(server)
    for _ in range(3):
        assert "recording" not in viewer.http.get("/api/rooms/main/video").json()
    assert counted == []
    moderator.login(MODERATOR_KEY)
    assert moderator.http.get("/api/rooms/main/video").json()["recording"]["bytes"] == 0
    assert counted == ["main"]


def test_a_short_run_inside_a_longer_one_makes_no_gap() -> None:
    """Two processes record at once for a while (the replay plays the earlier run there): the
    gaps are the times no run covers, not the time between the short run's end and the next."""
    from live.media.recording import RecordedSegment, Run

    def run(name: str, start: float, count: int) -> Run:
        return Run(name, tuple(RecordedSegment(f"{name}-{i}.m4s", "init", start + i, 1.0, False) for i in range(count)))

    long, short, after = run("a", 1000.0, 100), run("b", 1050.0, 2), run("c", 1100.0, 10)
    assert gaps([long, short, after]) == []
    assert gaps([long, short, run("d", 1103.0, 1)]) == [{"start": 1100.0, "end": 1103.0}]
