"""Replays against a real ``live serve``: FFmpeg's WHIP muxer publishes across a session's start and
end with a restart between (two runs, a gap), the recordings API lists them for admins, the
session's VOD playlist covers its range to within a segment and decodes with PyAV; kill -9 of the
server loses at most about 2 s and recording resumes; the size limit stops recording with an
error while the live playlist goes on. The VOD playlist's rules are tested on their own first."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import httpx
import pytest

from live.config import ConfigError, parse_event_file
from live.domain.events import EVENT_ADAPTER
from live.domain.evolve import evolve
from live.domain.room import ModerationMode, RoomSettings, RoomState
from live.media.recording import RecordedSegment
from live.media.replay import Listed, ReplaySettings, position, vod_playlist
from tests.conftest import ADMIN_KEY, LiveServer
from tests.livetools import until
from tests.rooms import ANN, MOD, ask, do
from tests.test_media import PUBLISHER_KEY, ffmpeg_publisher

SESSION_ID = "talk"

# A stamped stream: FFmpeg draws the wall-clock time each picture was made (tenths of a second,
# modulo 102.4 s) as ten black or white boxes along its top (bit k at x = 32k), so a test can tell
# from a replay's picture when it was captured. Frames get the wall clock as their timestamps for
# the boxes, then their own again.
STAMP_WRAP = 102.4
STAMP = ",".join(
    [
        "setpts=RTCTIME/(TB*1000000)",
        "drawbox=x=0:y=0:w=320:h=16:color=black:t=fill",
        *(f"drawbox=x={32 * k}:y=0:w=32:h=16:color=white:t=fill:enable='mod(floor(t*10/{2**k}),2)'" for k in range(10)),
        "setpts=PTS-STARTPTS",
    ]
)


def stamp_of(frame: av.VideoFrame) -> float:
    """The wall-clock time (modulo STAMP_WRAP) a stamped picture was made."""
    plane = frame.planes[0]
    row = bytes(plane)[8 * plane.line_size : 8 * plane.line_size + 320]
    return sum(1 << k for k in range(10) if row[32 * k + 16] > 128) / 10


def playlist_segments(text: str) -> list[tuple[float, float, str, bool]]:
    """(program date-time, duration, URI, after a discontinuity) for each segment of a playlist."""
    found, discontinuity, when, length = [], False, 0.0, 0.0
    for line in text.splitlines():
        if line == "#EXT-X-DISCONTINUITY":
            discontinuity = True
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            when = dt.datetime.fromisoformat(line.split(":", 1)[1]).timestamp()
        elif line.startswith("#EXTINF:"):
            length = float(line.split(":", 1)[1].rstrip(","))
        elif line and not line.startswith("#"):
            found.append((when, length, line, discontinuity))
            discontinuity = False
    return found


def segment_stamp(playlist_url: str, text: str, uri: str) -> float:
    """The stamp of a listed segment's first picture, decoded alone with its init section (FFmpeg's
    HLS demuxer drops the first pictures after a discontinuity: hls.js does not)."""
    init = re.findall(r'#EXT-X-MAP:URI="([^"]+)"', text[: text.index(f"\n{uri}\n")])[-1]
    base = playlist_url.rsplit("/", 1)[0]
    data = httpx.get(f"{base}/{init}").content + httpx.get(f"{base}/{uri}").content
    with av.open(io.BytesIO(data)) as container:
        return stamp_of(next(container.decode(video=0)))


def stamp_error(stamp: float, moment: float) -> float:
    """How far a stamp is from ``moment`` (epoch seconds), either way, across the wrap."""
    difference = (stamp - moment) % STAMP_WRAP
    return min(difference, STAMP_WRAP - difference)


# -- the VOD playlist -----------------------------------------------------------------------------
def listed(run: str, start: float, count: int, init: str = "init-a-1.mp4") -> list[Listed]:
    return [Listed(run, RecordedSegment(f"a-{n}.m4s", init, start + n, 1.0, False)) for n in range(count)]


def test_the_vod_playlist_lists_each_run_with_its_init_section_after_a_discontinuity() -> None:
    items = listed("20260101T000000Z-aa", 1000.0, 2) + listed("20260101T000010Z-bb", 1010.0, 2, "init-b-1.mp4")
    text = vod_playlist(items)
    assert text.startswith("#EXTM3U\n#EXT-X-VERSION:7\n") and text.endswith("#EXT-X-ENDLIST\n")
    assert "#EXT-X-PLAYLIST-TYPE:VOD\n" in text and "#EXT-X-TARGETDURATION:1\n" in text
    assert text.count("#EXT-X-MAP:") == 2 and text.count("#EXT-X-DISCONTINUITY\n") == 1
    assert re.search(r'#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="20260101T000010Z-bb/init-b-1.mp4"', text)
    assert "#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:16:50.000Z\n#EXTINF:1.000,\n20260101T000010Z-bb/a-0.m4s" in text


def test_a_moment_is_placed_by_the_durations_before_it_and_a_gap_takes_no_time() -> None:
    items = listed("r1", 1000.0, 2) + listed("r2", 1010.0, 2)  # 1000-1002, then 1010-1012
    assert position(items, 999.0) == 0.0
    assert position(items, 1001.5) == 1.5
    assert position(items, 1005.0) == 2.0  # in the gap: the first picture after it
    assert position(items, 1011.25) == 3.25
    assert position(items, 1013.0) is None


def test_replay_settings_are_checked() -> None:
    assert ReplaySettings.parse({"hidden": True, "start_offset": 90}) == ReplaySettings(True, 90.0, 0.0)
    for wrong in ({"hidden": "yes"}, {"start_offset": 10**6}, {"end_offset": True}, {"other": 1}, []):
        with pytest.raises(ValueError):
            ReplaySettings.parse(wrong)


# -- a stable id per session ---------------------------------------------------------------------
def test_a_session_is_named_by_its_id_else_by_its_start_and_ids_are_unique(tmp_path: Path) -> None:
    start = dt.datetime(2023, 11, 21, 9, 30, tzinfo=dt.UTC)
    room = parse_event_file(event_file(tmp_path / "event.toml", start, start + dt.timedelta(hours=1))).rooms[0]
    assert [session.session_id for session in room.sessions] == [SESSION_ID, "20231121-1130"]
    assert room.session("20231121-1130") is room.sessions[1] and room.session("nope") is None
    text = (
        (tmp_path / "event.toml").read_text().replace('title = { en = "Later"', 'id = "talk"\ntitle = { en = "Later"')
    )
    with pytest.raises(ConfigError) as raised:
        parse_event_file(event_file_text(tmp_path / "twice.toml", text))
    assert "two sessions share the id 'talk'" in str(raised.value)


def event_file_text(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


# -- the moment a question was highlighted -------------------------------------------------------
def test_a_question_keeps_the_first_time_it_was_highlighted_and_old_events_still_load() -> None:
    state = RoomState("main", RoomSettings(moderation=ModerationMode.POST))
    first, other = ask(state, ANN, "Carbon footprints?"), ask(state, ANN, "Recycling?")
    do(state, MOD, {"type": "highlight_question", "question_id": first.id}, now=1234.5)
    do(state, MOD, {"type": "highlight_question", "question_id": other.id}, now=1300.0)
    do(state, MOD, {"type": "highlight_question", "question_id": first.id}, now=1400.0)
    assert state.questions[first.id].highlighted_at == 1234.5 and state.questions[other.id].highlighted_at == 1300.0
    fresh = RoomState("main", RoomSettings(moderation=ModerationMode.POST))
    asked = ask(fresh, ANN, "Recycling?")
    stored = {"type": "settings_changed", "settings": {"answering_question_id": asked.id}, "action": "highlighted"}
    evolve(fresh, EVENT_ADAPTER.validate_python(stored))  # an event stored before "at" was kept
    assert fresh.settings.answering_question_id == asked.id and fresh.questions[asked.id].highlighted_at is None


# -- against a real server ------------------------------------------------------------------------
def event_file(path: Path, start: dt.datetime, end: dt.datetime) -> Path:
    """One room with a session from ``start`` to ``end`` (UTC) and one much later."""
    today = start.date().isoformat()
    later = (start + dt.timedelta(hours=2)).replace(microsecond=0, tzinfo=None)
    path.write_text(
        f"""
[event]
slug = "replay-test"
name = {{ en = "Replays", zh = "回放" }}
venue = {{ en = "Hall", zh = "大厅" }}
timezone = "UTC"
start_date = {today}
end_date = {(start + dt.timedelta(days=1)).date().isoformat()}

[[rooms]]
slug = "main"
kind = "main"
name = {{ en = "Main", zh = "主会场" }}
moderation = "post"

[[rooms.sessions]]
id = "{SESSION_ID}"
title = {{ en = "Battery footprints", zh = "电池碳足迹" }}
start = {start.replace(tzinfo=None).isoformat(timespec="seconds")}
end = {end.replace(tzinfo=None).isoformat(timespec="seconds")}
speakers = [{{ name = {{ en = "Li Wei", zh = "李伟" }} }}]

[[rooms.sessions]]
title = {{ en = "Later", zh = "稍后" }}
start = {later.isoformat()}
end = {(later + dt.timedelta(hours=1)).isoformat()}
""",
        "utf-8",
    )
    return path


@pytest.fixture
def session_soon(
    tmp_path: Path, start_live: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[LiveServer, float, float]]:
    """A server whose session starts 14 s from now and ends 14 s later."""
    monkeypatch.setenv("LIVE_PUBLISHER_KEY_MAIN", PUBLISHER_KEY)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start, end = now + dt.timedelta(seconds=14), now + dt.timedelta(seconds=28)
    config = event_file(tmp_path / "event.toml", start, end)
    yield start_live(extra=("--config", str(config))), start.timestamp(), end.timestamp()


def admin(server: LiveServer) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=10)
    assert client.post("/api/login", json={"key": ADMIN_KEY}).status_code == 200
    return client


def recorded_segments(client: httpx.Client) -> int:
    return sum(run["segments"] for run in client.get("/api/rooms/main/recordings").json()["runs"])


@pytest.mark.slow
async def test_a_session_recorded_across_a_publisher_restart_replays_over_its_range(
    session_soon: tuple[LiveServer, float, float],
) -> None:
    server, start, end = session_soon
    url = f"{server.url}/api/rooms/main/whip"
    anonymous = httpx.get(f"{server.url}/api/rooms/main/replay/{SESSION_ID}/index.m3u8")
    assert anonymous.status_code == 404  # not over yet
    assert httpx.get(f"{server.url}/api/rooms/main/recordings").status_code == 403
    client = admin(server)
    publisher = ffmpeg_publisher(url, PUBLISHER_KEY, 60, extra=("-vf", STAMP))
    try:
        await until(lambda: recorded_segments(client) >= 2, 20, "two recorded segments")
        assert time.time() < start, "the machine was too slow to record before the session started"
        await until(lambda: time.time() > start + 4, 20, "four seconds into the session", 0.2)
        publisher.send_signal(signal.SIGINT)  # the encoder restarts during the session
        publisher.wait(timeout=10)
        time.sleep(2)  # the gap between the two runs
        publisher = ffmpeg_publisher(url, PUBLISHER_KEY, 60, extra=("-vf", STAMP))
        await until(lambda: time.time() > end + 3, 30, "the session's end", 0.2)
        listing = client.get("/api/rooms/main/recordings").json()
        assert len(listing["runs"]) == 2 and listing["bytes"] > 0
        [gap] = listing["gaps"]
        assert listing["runs"][0]["end"] <= gap["start"] < gap["end"] <= listing["runs"][1]["start"] + 0.001
    finally:
        publisher.kill()
        publisher.wait()

    response = httpx.get(f"{server.url}/api/rooms/main/replay/{SESSION_ID}/index.m3u8")  # over: public
    assert response.status_code == 200 and response.headers["content-type"] == "application/vnd.apple.mpegurl"
    text = response.text
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in text and text.endswith("#EXT-X-ENDLIST\n")
    assert text.count("#EXT-X-DISCONTINUITY\n") >= 1 and text.count("#EXT-X-MAP:") >= 2
    times = [dt.datetime.fromisoformat(t).timestamp() for t in re.findall(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)", text)]
    durations = [float(d) for d in re.findall(r"#EXTINF:([0-9.]+),", text)]
    assert start - 1.5 < times[0] <= start and end <= times[-1] + durations[-1] < end + 1.5  # within a segment
    names = [line for line in text.splitlines() if line and not line.startswith("#")]
    segment = httpx.get(f"{server.url}/api/rooms/main/replay/{SESSION_ID}/{names[0]}")
    assert segment.status_code == 200 and "immutable" in segment.headers["cache-control"]
    outside = httpx.get(f"{server.url}/api/rooms/main/replay/{SESSION_ID}/{names[0].split('/')[0]}/evil.m4s")
    assert outside.status_code == 404

    with av.open(f"{server.url}/api/rooms/main/replay/{SESSION_ID}/index.m3u8") as container:
        stamps = [stamp_of(frame) for frame in container.decode(video=0)]
    frames = len(stamps)
    assert abs(frames / 15 - sum(durations)) < 1.5, (frames, sum(durations))  # 15 fps all through
    # the pictures are those of the recorded times: the first, the first after the gap, the last
    skips = [n for n in range(1, len(stamps)) if stamp_error(stamps[n], stamps[n - 1]) > 0.5]
    resumed = [(when, uri) for when, _, uri, cut in playlist_segments(text) if cut]
    assert len(skips) == len(resumed) == 1, (skips, resumed)
    playlist = f"{server.url}/api/rooms/main/replay/{SESSION_ID}/index.m3u8"
    assert stamp_error(segment_stamp(playlist, text, resumed[0][1]), resumed[0][0]) < 0.5, resumed
    assert stamp_error(stamps[0], times[0]) < 0.5, (stamps[0], times[0] % STAMP_WRAP)
    assert stamp_error(stamps[-1], times[-1] + durations[-1]) < 0.5, (
        stamps[-1],
        (times[-1] + durations[-1]) % STAMP_WRAP,
    )

    assert httpx.get(f"{server.url}/api/rooms/main/replay/{SESSION_ID}/download.mp4").status_code == 403
    mp4 = client.get(f"/api/rooms/main/replay/{SESSION_ID}/download.mp4", timeout=60)
    assert (
        mp4.status_code == 200 and mp4.headers["content-disposition"] == f'attachment; filename="main-{SESSION_ID}.mp4"'
    )
    with av.open(io.BytesIO(mp4.content)) as container:
        assert [s.codec_context.name for s in container.streams] == ["h264", "aac"]
        assert abs((container.duration or 0) / 1e6 - sum(durations)) < 1.0
        downloaded = sum(1 for _ in container.decode(video=0))
    assert abs(downloaded / 15 - sum(durations)) < 0.5, (downloaded, frames, sum(durations))  # every picture
    assert not list((server.data_dir / "recordings" / "main").glob(".download-*"))  # removed once sent

    unknown = httpx.get(f"{server.url}/api/rooms/main/replay/no-such-session/index.m3u8")
    assert unknown.status_code == 404
    nested = client.post(f"/api/rooms/main/replay/{SESSION_ID}/settings", content="[" * 15_000,
                         headers={"Content-Type": "application/json"})  # fmt: skip
    assert nested.status_code == 400 and nested.json()["error"]["code"] == "invalid"  # not a 500
    hidden = client.post(f"/api/rooms/main/replay/{SESSION_ID}/settings", json={"hidden": True})
    assert hidden.status_code == 200 and hidden.json()["hidden"] is True
    assert client.get(f"/api/rooms/main/replay/{SESSION_ID}/index.m3u8").status_code == 200  # admins still
    assert httpx.get(f"{server.url}/api/rooms/main/replay/{SESSION_ID}/index.m3u8").status_code == 404


@pytest.mark.slow
async def test_kill_9_loses_at_most_two_seconds_and_recording_resumes(
    tmp_path: Path, start_live: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIVE_PUBLISHER_KEY_MAIN", PUBLISHER_KEY)
    server = start_live(data_dir=tmp_path / "data")
    client = admin(server)
    publisher = ffmpeg_publisher(f"{server.url}/api/rooms/main/whip", PUBLISHER_KEY, 60)
    try:
        await until(lambda: recorded_segments(client) >= 4, 20, "four recorded segments")
        assert server.process is not None
        server.process.send_signal(signal.SIGKILL)
        killed_at = time.time()
        server.process.wait()
        server.process = None
    finally:
        publisher.kill()
        publisher.wait()
    [run_dir] = (tmp_path / "data" / "recordings" / "main").iterdir()
    lines = (run_dir / "index.jsonl").read_text().splitlines()
    last = json.loads(lines[-1])
    assert killed_at - (last["start"] + last["duration"]) < 2.0
    assert all((run_dir / json.loads(line)["file"]).is_file() for line in lines)

    again = start_live(data_dir=tmp_path / "data")
    client = admin(again)
    publisher = ffmpeg_publisher(f"{again.url}/api/rooms/main/whip", PUBLISHER_KEY, 60)
    try:
        await until(lambda: recorded_segments(client) >= len(lines) + 2, 20, "recording resumed")
        listing = client.get("/api/rooms/main/recordings").json()
        runs = listing["runs"]
        assert len(runs) == 2 and runs[0]["segments"] == len(lines)
        [gap] = listing["gaps"]  # the time the process was down, recorded as a gap
        # the downtime (a restart and FFmpeg's reconnect: under a second on a quiet machine)
        assert gap == {"start": runs[0]["end"], "end": runs[1]["start"]} and gap["end"] > gap["start"]
    finally:
        publisher.kill()
        publisher.wait()


@pytest.mark.slow
async def test_the_size_limit_stops_recording_with_an_error_and_the_live_playlist_keeps_growing(
    start_live: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIVE_PUBLISHER_KEY_MAIN", PUBLISHER_KEY)
    server = start_live(extra=("--recordings-max-mb", "0.2"))
    publisher = ffmpeg_publisher(f"{server.url}/api/rooms/main/whip", PUBLISHER_KEY, 60)
    organiser = admin(server)

    def recording() -> dict[str, object]:
        return organiser.get("/api/rooms/main/video").json()["recording"]  # type: ignore[no-any-return]

    def live_sequence() -> int:
        text = httpx.get(f"{server.url}/api/rooms/main/hls/index.m3u8", timeout=10).text
        found = re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text)
        return int(found[1]) + text.count("#EXTINF") if found else 0

    try:
        await until(lambda: recording()["error"] is not None, 30, "the size limit")
        stopped = recording()
        assert "size limit" in str(stopped["error"]) and stopped["recording"] is False
        assert 0 < int(stopped["bytes"]) <= 0.2 * 1024 * 1024  # type: ignore[call-overload]
        assert "recording" not in httpx.get(f"{server.url}/api/rooms/main/video").json()  # for moderators only
        overview = organiser.get("/api/admin/overview").json()["rooms"]
        assert "size limit" in next(r for r in overview if r["slug"] == "main")["video"]["recording"]["error"]
        assert server.log_path is not None
        assert "recording stopped: the recordings reached their size limit" in server.log_path.read_text()
        newest = live_sequence()
        await until(lambda: live_sequence() >= newest + 3, 15, "the live playlist growing")
        assert recording()["segments"] == stopped["segments"]
    finally:
        publisher.kill()
        publisher.wait()


async def test_a_demo_stream_is_recorded_while_someone_watches(start_live: Callable[..., LiveServer]) -> None:
    server = start_live(extra=("--demo",))
    client = admin(server)
    assert recorded_segments(client) == 0  # nobody watches: the demo does not encode

    def watched_and_recorded() -> bool:
        httpx.get(f"{server.url}/api/rooms/main/hls/index.m3u8", timeout=10)  # an HLS player's reload
        return recorded_segments(client) >= 2

    await until(watched_and_recorded, 20, "two recorded demo segments", 0.5)


def test_where_two_processes_runs_overlap_no_moment_is_listed_twice(tmp_path: Path) -> None:
    from live.media.recording import Recordings
    from live.media.replay import select
    from tests.test_recording import write_run

    write_run(tmp_path, "20260101T000000Z-aa", 1000.0, 4)  # the replaced publisher, 1000-1004
    write_run(tmp_path, "20260101T000002Z-bb", 1002.1, 4)  # the new one, from 1002.1 (wins)
    chosen = select(Recordings(tmp_path), "main", 999.0, 1010.0)
    assert [(item.run[-2:], item.segment.start) for item in chosen] == [
        ("aa", 1000.0), ("aa", 1001.0), ("aa", 1002.0), ("aa", 1003.0), ("bb", 1004.1), ("bb", 1005.1)
    ]  # fmt: skip
    assert vod_playlist(chosen).count("#EXT-X-DISCONTINUITY") == 1
