"""Recording on the Redis engine with several processes (the docker-compose topology): two
``live serve`` processes on one Redis share one recordings directory (docker-compose's shared
volume). FFmpeg publishes to process A through the session's start, stops, and publishes again to
process B until after its end: each process records its own runs, and the replay served by either
process lists both parts, a discontinuity where the stream changed hands, and decodes with PyAV;
the recordings listing, disk use and an answered question's export link agree on both."""

from __future__ import annotations

import datetime as dt
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import av
import httpx
import pytest

from tests.conftest import MODERATOR_KEY, LiveServer, RedisServer
from tests.livetools import until
from tests.test_media import PUBLISHER_KEY, ffmpeg_publisher
from tests.test_replay import (
    SESSION_ID,
    STAMP,
    admin,
    event_file,
    playlist_segments,
    segment_stamp,
    stamp_error,
    stamp_of,
)


def moderator(server: LiveServer) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=10)
    client.get("/api/me")
    assert client.post("/api/login", json={"key": MODERATOR_KEY}).status_code == 200
    return client


def recorded(organiser: httpx.Client) -> int:
    """Segments in the recordings directory, as the organiser's process lists them."""
    listing = organiser.get("/api/rooms/main/recordings").json()
    return sum(run["segments"] for run in listing["runs"])


def hosted_by(server: LiveServer, here: bool) -> bool:
    status = httpx.get(f"{server.url}/api/rooms/main/video", timeout=10).json()
    return bool(status["live"] and status["publisher"] and status["publisher"]["here"] is here)


@pytest.mark.slow
async def test_a_publisher_moving_to_another_process_is_recorded_by_both_and_replayed_by_either(
    tmp_path: Path, start_live: Callable[..., LiveServer], redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIVE_PUBLISHER_KEY_MAIN", PUBLISHER_KEY)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start, end = now + dt.timedelta(seconds=20), now + dt.timedelta(seconds=36)  # two servers start first
    shared = tmp_path / "shared-recordings"  # one volume, mounted by every process
    options = ("--config", str(event_file(tmp_path / "event.toml", start, end)), "--recordings-dir", str(shared))
    first = start_live(redis_url=redis_server.url, extra=options)
    second = start_live(redis_url=redis_server.url, extra=options)
    start_at, end_at = start.timestamp(), end.timestamp()

    publisher = ffmpeg_publisher(f"{first.url}/api/rooms/main/whip", PUBLISHER_KEY, 60, extra=("-vf", STAMP))
    try:
        await until(lambda: hosted_by(first, True) and hosted_by(second, False), 20, "the room live on A", 0.2)
        organiser = admin(first)
        await until(lambda: recorded(organiser) >= 2, 20, "two segments recorded on A", 0.2)
        assert time.time() < start_at, "the machine was too slow to record before the session started"
        await until(lambda: time.time() > start_at + 5, 25, "five seconds into the session on A", 0.2)
        publisher.send_signal(signal.SIGINT)  # the encoder's network changes: it reconnects elsewhere
        publisher.wait(timeout=10)
        await until(lambda: not hosted_by(second, False), 15, "A's claim released", 0.2)
        time.sleep(2)  # the time it takes the encoder to reconnect: a gap in the recording
        publisher = ffmpeg_publisher(f"{second.url}/api/rooms/main/whip", PUBLISHER_KEY, 60, extra=("-vf", STAMP))
        await until(lambda: hosted_by(second, True) and hosted_by(first, False), 20, "the room live on B", 0.2)
        await until(lambda: time.time() > start_at + 11, 20, "part of the session on B", 0.2)
        organisers = [admin(server) for server in (second, first)]

        def recording_seen_on_both() -> bool:  # A's admin page shows B's recording (from its claim)
            here, there = (client.get("/api/rooms/main/video").json()["recording"] for client in organisers)
            return bool(here["recording"] and here["segments"] and there["recording"] and there["run"] == here["run"])

        await until(recording_seen_on_both, 10, "B's recording on A's admin page", 0.2)
        answered_at = time.time()
        chair = moderator(second)
        asked = chair.post("/api/rooms/main/commands", json={"type": "ask_question", "text": "Counted how?"})
        question_id = asked.json()["question"]["id"]
        for action in ("mark_answered",):  # answered, never highlighted (the room publishes at once)
            done = chair.post("/api/rooms/main/commands",
                              json={"type": "moderate_question", "question_id": question_id, "action": action})  # fmt: skip
            assert done.status_code == 200, done.text
        await until(lambda: time.time() > end_at + 2.5, 30, "the session's end", 0.2)
    finally:
        publisher.kill()
        publisher.wait()

    runs = sorted(p.name for p in (shared / "main").iterdir() if p.is_dir())
    assert len(runs) == 2, runs  # one run per process, each its own directory and index
    listings = [admin(server).get("/api/rooms/main/recordings").json() for server in (first, second)]
    assert listings[0] == listings[1], listings  # either process lists both processes' runs
    listing = listings[0]
    assert [run["run"] for run in listing["runs"]] == runs
    [gap] = listing["gaps"]
    assert listing["runs"][0]["end"] <= gap["start"] < gap["end"] <= listing["runs"][1]["start"] + 0.001
    on_disk = sum(p.stat().st_size for p in (shared / "main").rglob("*") if p.is_file())
    assert listing["bytes"] == on_disk  # what both wrote, not what this process did

    texts = [httpx.get(f"{s.url}/api/rooms/main/replay/{SESSION_ID}/index.m3u8").text for s in (first, second)]
    assert texts[0] == texts[1] and texts[0].endswith("#EXT-X-ENDLIST\n")
    segments = playlist_segments(texts[0])
    assert {uri.split("/")[0] for _, _, uri, _ in segments} == set(runs)
    [switch] = [n for n, (_, _, _, cut) in enumerate(segments) if cut]  # where the stream changed hands
    before, after = segments[switch - 1], segments[switch]
    assert before[2].split("/")[0] == runs[0] and after[2].split("/")[0] == runs[1]
    assert after[0] - (before[0] + before[1]) > 1.0  # the gap, seen in the program date-times
    assert start_at - 1.5 < segments[0][0] <= start_at  # the session's range, to within a segment
    assert end_at <= segments[-1][0] + segments[-1][1] < end_at + 1.5
    for server, (_, _, uri, _) in ((first, segments[-1]), (second, segments[0])):  # each serves the other's files
        assert httpx.get(f"{server.url}/api/rooms/main/replay/{SESSION_ID}/{uri}").status_code == 200

    durations = sum(length for _, length, _, _ in segments)
    with av.open(f"{first.url}/api/rooms/main/replay/{SESSION_ID}/index.m3u8") as container:
        stamps = [stamp_of(frame) for frame in container.decode(video=0)]
    assert abs(len(stamps) / 15 - durations) < 1.5, (len(stamps), durations)  # 15 fps through both parts
    # the pictures, by their stamps: from the session's start, A's part, one jump in time, B's part
    skips = [n for n in range(1, len(stamps)) if stamp_error(stamps[n], stamps[n - 1]) > 0.5]
    assert len(skips) == 1 and stamp_error(stamps[0], segments[0][0]) < 0.5, (skips, stamps[0], segments[0][0])
    assert stamp_error(stamps[skips[0] - 1], before[0] + before[1]) < 0.5, (stamps[skips[0] - 1], before)
    playlist = f"{first.url}/api/rooms/main/replay/{SESSION_ID}/index.m3u8"  # B's first picture, from A
    assert stamp_error(segment_stamp(playlist, texts[0], after[2]), after[0]) < 0.5, after

    expected = next(
        sum(length for _, length, _, _ in segments[:n]) + answered_at - when
        for n, (when, length, _, _) in enumerate(segments)
        if when <= answered_at < when + length
    )
    for server in (first, second):
        [row] = moderator(server).get("/api/rooms/main/export.json").json()["questions"]
        found = re.search(rf"/r/main/replay/{SESSION_ID}\?t=(\d+)$", row["replay"] or "")
        assert found and abs(int(found[1]) - expected) <= 1.0, (row["replay"], expected)
