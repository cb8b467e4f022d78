"""A session's replay in Chromium: FFmpeg publishes through a session while a moderator highlights
a question and runs a poll; once the session is over, the lobby and the room page link its replay, the page lists
the question and the poll in order, clicking the question seeks within a second of the moment it
was highlighted (the video's currentTime), the current one is marked, and ?t= starts there; the
export links the question to that moment."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser.chromium import SHOTS, launch
from tests.browser.test_pages import Watch, log_in
from tests.conftest import ADMIN_KEY, MODERATOR_KEY, LiveServer
from tests.test_media import PUBLISHER_KEY, ffmpeg_publisher
from tests.test_replay import SESSION_ID, STAMP, event_file, stamp_error

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
expect = sync_api.expect


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch("--autoplay-policy=no-user-gesture-required") as browser:
        yield browser


def moderator(server: LiveServer) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=10)
    client.get("/api/me")  # an identity first
    assert client.post("/api/login", json={"key": MODERATOR_KEY}).status_code == 200
    return client


def command(client: httpx.Client, body: dict[str, object]) -> dict[str, object]:
    response = client.post("/api/rooms/main/commands", json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.slow
def test_a_highlighted_question_opens_the_replay_within_a_second_of_its_moment(
    tmp_path: Path, start_live: Callable[..., LiveServer], browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIVE_PUBLISHER_KEY_MAIN", PUBLISHER_KEY)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start, end = now + dt.timedelta(seconds=9), now + dt.timedelta(seconds=25)
    server = start_live(extra=("--config", str(event_file(tmp_path / "event.toml", start, end))))
    publisher = ffmpeg_publisher(f"{server.url}/api/rooms/main/whip", PUBLISHER_KEY, 60, extra=("-vf", STAMP))
    try:
        client = moderator(server)
        while time.time() < start.timestamp() + 3:
            time.sleep(0.2)
        poll_id = command(client, {"type": "create_poll", "kind": "single_choice", "question": "Which?",
                                   "options": ["Cells", "Packs"]})["poll_id"]  # fmt: skip
        command(client, {"type": "change_poll", "poll_id": poll_id, "action": "open"})
        command(client, {"type": "vote_poll", "poll_id": poll_id, "choices": ["Packs"]})
        command(client, {"type": "change_poll", "poll_id": poll_id, "action": "close"})
        question = command(client, {"type": "ask_question", "text": "How are battery footprints counted?"})
        question_id = question["question"]["id"]  # type: ignore[index]
        while time.time() < start.timestamp() + 8:
            time.sleep(0.2)
        highlighted_at = time.time()
        command(client, {"type": "highlight_question", "question_id": question_id})
        while time.time() < end.timestamp() + 2:
            time.sleep(0.2)
    finally:
        publisher.kill()
        publisher.wait()

    info = httpx.get(f"{server.url}/api/rooms/main/replay/{SESSION_ID}").json()
    [poll, asked] = info["moments"]
    assert poll["kind"] == "poll" and poll["poll"]["tally"] == {"Cells": 0, "Packs": 1}
    assert asked["kind"] == "question" and abs(asked["time"] - highlighted_at) < 0.5
    expected = highlighted_at - info["start"]  # one run, no gap: the moment's place in the video
    assert abs(asked["at"] - expected) < 0.5
    [row] = client.get("/api/rooms/main/export.json").json()["questions"]
    assert row["highlighted_at"] and row["replay"] == f"{server.url}/r/main/replay/{SESSION_ID}?t={int(asked['at'])}"

    watch = Watch()
    page = watch.page(browser, server)
    page.goto("/")
    page.get_by_role("link", name="Watch the replay: Battery footprints").click()
    page.wait_for_url(f"**/r/main/replay/{SESSION_ID}")
    links = page.locator(".replay-moment-link")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_contain_text("Which?")
    expect(page.locator(".replay-moment-result").first).to_contain_text("Packs: 1")
    page.wait_for_function("() => document.getElementById('replay-player').readyState >= 1", timeout=20_000)
    links.nth(1).click()
    page.wait_for_function(SEEKED_NEAR, arg=expected, timeout=10_000)
    seen = page.evaluate(READ_STAMP)  # the picture shown, paused: when it was captured
    assert stamp_error(seen["stamp"], highlighted_at) < 1.0, (seen, highlighted_at % 102.4)  # within 1 s of T
    assert stamp_error(seen["stamp"], highlighted_at + seen["time"] - expected) < 0.5, seen  # the right picture
    page.evaluate("() => document.getElementById('replay-player').play()")
    page.wait_for_function(f"() => document.getElementById('replay-player').currentTime > {expected + 0.5}")
    expect(page.locator(".replay-moment").nth(1)).to_have_class("replay-moment replay-moment-current")
    assert page.url.endswith(f"?t={int(asked['at'])}")  # the moment's own link, to share
    page.screenshot(path=str(SHOTS / "replay.png"))

    room_page = watch.page(browser, server)
    room_page.goto("/r/main")
    expect(room_page.get_by_role("link", name="Watch the replay: Battery footprints")).to_have_attribute(
        "href", f"/r/main/replay/{SESSION_ID}"
    )
    shared = watch.page(browser, server)
    shared.goto(f"/r/main/replay/{SESSION_ID}?t=5")
    shared.wait_for_function("() => Math.abs(document.getElementById('replay-player').currentTime - 5) < 1")

    # The admin's MP4 download plays in Chromium to its end, as long as the replay
    organiser = watch.page(browser, server)
    log_in(organiser, ADMIN_KEY, f"/r/main/replay/{SESSION_ID}")
    organiser.evaluate(PLAY_DOWNLOAD, f"/api/rooms/main/replay/{SESSION_ID}/download.mp4")
    organiser.wait_for_function("() => window.__download && window.__download.ended", timeout=60_000)
    played = organiser.evaluate("() => window.__download")
    assert played["error"] is None and abs(played["duration"] - info["duration"]) < 1.0, (played, info["duration"])
    assert played["frames"] > 14 * info["duration"] * 0.5, played  # pictures were decoded, not only sound
    assert not watch.errors, watch.errors


# The player has seeked to within a second of the moment and shows a picture from there.
SEEKED_NEAR = """(at) => {
  const video = document.getElementById("replay-player");
  return Math.abs(video.currentTime - at) < 1 && !video.seeking && video.readyState >= 2;
}"""

# Pause the player and read the stamp (tests/test_replay.py STAMP) of the picture it shows.
READ_STAMP = """() => {
  const video = document.getElementById("replay-player");
  video.pause();
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const context = canvas.getContext("2d");
  context.drawImage(video, 0, 0);
  let tenths = 0;
  for (let k = 0; k < 10; k++) {
    const [r, g, b] = context.getImageData(32 * k + 16, 8, 1, 1).data;
    if ((r + g + b) / 3 > 128) tenths += 1 << k;
  }
  return { stamp: tenths / 10, time: video.currentTime, width: video.videoWidth };
}"""

# A <video> for the download, played muted at 4x to its end: what it lasted and the frames it showed.
PLAY_DOWNLOAD = """async (src) => {
  const video = document.createElement("video");
  video.muted = true;
  window.__download = { ended: false, error: null, duration: 0, frames: 0 };
  video.addEventListener("error", () => { window.__download.error = String(video.error && video.error.message); window.__download.ended = true; });
  video.addEventListener("ended", () => {
    Object.assign(window.__download, { ended: true, duration: video.duration,
      frames: video.getVideoPlaybackQuality().totalVideoFrames });
  });
  video.src = src;
  document.body.append(video);
  video.playbackRate = 4;
  await video.play();
}"""
