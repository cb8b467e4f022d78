"""The HLS the server packages, played by the viewer page in Chromium through hls.js: a browser
without WebRTC (RTCPeerConnection removed) falls back to HLS and the video advances, reloading
the playlist by blocking reloads (``_HLS_msn``, each answered once its segment exists); a publisher
restart (a discontinuity in the playlist) is played through."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator

import pytest

from tests.browser.chromium import SHOTS, launch
from tests.browser.test_pages import Watch
from tests.conftest import LiveServer
from tests.test_media import PUBLISHER_KEY, ffmpeg_publisher

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
Page = sync_api.Page
expect = sync_api.expect

NO_WEBRTC = "delete window.RTCPeerConnection; delete window.webkitRTCPeerConnection;"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch("--autoplay-policy=no-user-gesture-required") as browser:
        yield browser


def played_seconds(page: Page) -> float:
    return float(page.evaluate("document.getElementById('video-player').currentTime"))


def played_past(page: Page, seconds: float, timeout: float) -> None:
    """Waits until the video has played past ``seconds``. A function, not an expression: Playwright
    polls an expression with eval(), which the pages' CSP refuses (no 'unsafe-eval')."""
    page.wait_for_function(
        "(seconds) => document.getElementById('video-player').currentTime > seconds", arg=seconds, timeout=timeout
    )


def test_a_browser_without_webrtc_plays_the_rooms_hls(
    start_live: Callable[..., LiveServer], browser: Browser
) -> None:
    server = start_live(extra=("--demo",))
    watch = Watch()
    viewer = watch.page(browser, server)
    viewer.add_init_script(NO_WEBRTC)
    playlists: list[str] = []
    viewer.on("request", lambda request: playlists.append(request.url) if "index.m3u8" in request.url else None)
    viewer.goto("/r/main")
    expect(viewer.locator("#video")).to_have_attribute("data-state", "live", timeout=20_000)
    viewer.wait_for_function("() => document.getElementById('video-player').videoWidth === 640", timeout=20_000)
    first = played_seconds(viewer)
    played_past(viewer, first + 2, timeout=10_000)
    # hls.js, not Chromium's own HLS player (which plays it too, but seconds further behind):
    # hls.js feeds the video through Media Source Extensions, a blob: URL.
    assert viewer.evaluate("() => document.getElementById('video-player').src.startsWith('blob:')")
    # The first load is the plain playlist; each reload asks for the segment after the newest.
    assert playlists[0].endswith("/index.m3u8"), playlists
    reloads = [url for url in playlists[1:] if "_HLS_msn=" in url]
    assert len(reloads) >= 2 and not any("_HLS_part" in url or "_HLS_skip" in url for url in playlists), playlists
    viewer.screenshot(path=str(SHOTS / "video-viewer-hls.png"))
    assert not watch.errors, watch.errors


def test_a_publisher_restart_is_played_through(
    start_live: Callable[..., LiveServer], browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIVE_PUBLISHER_KEY_MAIN", PUBLISHER_KEY)
    server = start_live()
    url = f"{server.url}/api/rooms/main/whip"
    publisher = ffmpeg_publisher(url, PUBLISHER_KEY, 60, size="640x360", rate=30)
    try:
        watch = Watch()
        viewer = watch.page(browser, server)
        viewer.add_init_script(NO_WEBRTC)
        viewer.goto("/r/main")
        played_past(viewer, 2, timeout=20_000)
        publisher.send_signal(signal.SIGINT)  # the venue's encoder restarts
        publisher.wait(timeout=10)
        publisher = ffmpeg_publisher(url, PUBLISHER_KEY, 60, size="640x360", rate=30)
        first = played_seconds(viewer)
        discontinuity = f"{server.url}/api/rooms/main/hls/index.m3u8"
        viewer.wait_for_function(
            "async (url) => (await (await fetch(url)).text()).includes('#EXT-X-DISCONTINUITY\\n')",
            arg=discontinuity, timeout=20_000, polling=500,
        )  # fmt: skip
        resumed = played_seconds(viewer)
        played_past(viewer, max(first, resumed) + 2, timeout=20_000)
        expect(viewer.locator("#video")).to_have_attribute("data-state", "live")
        assert not watch.errors, watch.errors
    finally:
        publisher.kill()
        publisher.wait()
