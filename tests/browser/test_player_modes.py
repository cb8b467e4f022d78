"""The viewer page's two video modes in Chromium, against `live serve --demo` (a test pattern in
every room while someone watches): the player falls back to HLS by itself when ICE cannot
connect (UDP blocked) and at once when the WebRTC seats are full; the viewer switches and the
choice is remembered; the Q&A works in both; no CSP violation while HLS plays; and the admin page
and /metrics show how each room's video reaches its viewers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, SHOTS, launch
from tests.browser.test_csp import LISTEN
from tests.browser.test_hls_playback import NO_WEBRTC
from tests.browser.test_pages import PHONE, Watch, log_in
from tests.browser.test_video import decoded_frames
from tests.conftest import ADMIN_KEY, LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
Page = sync_api.Page
expect = sync_api.expect

AUTOPLAY = "--autoplay-policy=no-user-gesture-required"
# A profile whose WebRTC may use UDP only through a proxy, and there is none: no candidates at
# all, so ICE has nothing to pair with the server (a network that blocks UDP, without TURN).
# Debian's Chromium ignores --force-webrtc-ip-handling-policy; the profile's preference is obeyed.
UDP_BLOCKED = {"webrtc": {"ip_handling_policy": "disable_non_proxied_udp"}}
LAPTOP = {"width": 1280, "height": 800}

# Every peer connection the page makes, with the ICE states it went through and its local candidates.
RECORD_ICE = """
window.__ice = [];
const Native = window.RTCPeerConnection;
window.RTCPeerConnection = function (...args) {
  const pc = new Native(...args);
  const seen = { states: [], candidates: [] };
  window.__ice.push(seen);
  pc.addEventListener("iceconnectionstatechange", () => seen.states.push(pc.iceConnectionState));
  pc.addEventListener("icecandidate", (event) => { if (event.candidate) seen.candidates.push(event.candidate.candidate); });
  return pc;
};
window.RTCPeerConnection.prototype = Native.prototype;
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch(AUTOPLAY) as browser:
        yield browser


@contextmanager
def udp_blocked_page(browser: Browser, profile: Path, server: LiveServer, errors: list[str]) -> Iterator[Page]:
    """A page in a second Chromium (same Playwright) whose profile blocks WebRTC's UDP: a profile
    of one's own needs a persistent context."""
    (profile / "Default").mkdir(parents=True)
    (profile / "Default" / "Preferences").write_text(json.dumps(UDP_BLOCKED))
    options: dict[str, Any] = {"executable_path": CHROMIUM, "args": [*CHROMIUM_ARGS, AUTOPLAY]}
    context = browser.browser_type.launch_persistent_context(
        str(profile), base_url=server.url, locale="en-US", **options
    )
    try:
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
    finally:
        context.close()


def playing_mode(page: Page, mode: str, timeout: float = 20_000) -> None:
    """The player is live in ``mode`` and its frames advance."""
    expect(page.locator("#video")).to_have_attribute("data-mode", mode, timeout=timeout)
    expect(page.locator("#video")).to_have_attribute("data-state", "live", timeout=timeout)
    first = decoded_frames(page)
    page.wait_for_function(
        "(first) => document.getElementById('video-player').getVideoPlaybackQuality().totalVideoFrames > first + 10",
        arg=first,
        timeout=10_000,
    )


def violations(page: Page) -> list[str]:
    return list(page.evaluate("window.__violations"))


def test_with_udp_blocked_the_player_falls_back_to_hls_by_itself(
    start_live: Callable[..., LiveServer], browser: Browser, tmp_path: Path
) -> None:
    server = start_live(extra=("--demo",))
    errors: list[str] = []
    with udp_blocked_page(browser, tmp_path / "profile", server, errors) as viewer:
        viewer.add_init_script(RECORD_ICE)
        viewer.add_init_script(LISTEN)
        viewer.goto("/r/main")
        expect(viewer.locator("#video")).to_have_attribute("data-mode", "webrtc")  # it tries first
        playing_mode(viewer, "hls", timeout=25_000)
        expect(viewer.locator("#video-mode")).to_have_text("· standard")
        expect(viewer.locator("#video-switch")).to_have_text("Use low-latency video")
        # WebRTC was tried and its ICE never connected: not one candidate was gathered.
        tried = viewer.evaluate("window.__ice")
        assert tried, "the player never tried WebRTC"
        assert all("connected" not in pc["states"] and "completed" not in pc["states"] for pc in tried), tried
        assert [pc["candidates"] for pc in tried] == [[]] * len(tried), tried
        assert violations(viewer) == [], "CSP violations while HLS plays"
    assert not errors, errors


def test_a_viewer_past_the_webrtc_seats_gets_hls_at_once(
    start_live: Callable[..., LiveServer], browser: Browser
) -> None:
    server = start_live(extra=("--demo", "--webrtc-seats", "0"))
    watch = Watch()
    viewer = watch.page(browser, server)
    viewer.add_init_script(LISTEN)
    with viewer.expect_response(re.compile(r"/api/rooms/main/whep$")) as answered:
        viewer.goto("/r/main")
    assert answered.value.status == 503
    assert answered.value.json()["error"]["code"] == "seats_full"
    playing_mode(viewer, "hls")
    expect(viewer.locator("#video-mode")).to_have_text("· standard")
    # The playlist was the very next video request, asked for at once (not after the 4 s ICE deadline).
    timings = viewer.evaluate(
        """performance.getEntriesByType("resource")
             .filter((entry) => /\\/whep$|\\/hls\\//.test(entry.name))
             .map((entry) => [new URL(entry.name).pathname, entry.startTime, entry.responseEnd])"""
    )
    assert timings[0][0] == "/api/rooms/main/whep" and timings[1][0] == "/api/rooms/main/hls/index.m3u8", timings
    assert timings[1][1] - timings[0][2] < 1000, f"HLS began {timings[1][1] - timings[0][2]:.0f} ms after the 503"
    assert violations(viewer) == [], "CSP violations while HLS plays"
    assert not watch.errors, watch.errors


def test_the_viewer_switches_modes_and_the_choice_is_remembered(
    start_live: Callable[..., LiveServer], browser: Browser
) -> None:
    server = start_live(extra=("--demo",))
    watch = Watch()
    viewer = watch.page(browser, server)
    viewer.add_init_script(LISTEN)
    viewer.goto("/r/main")
    playing_mode(viewer, "webrtc")
    expect(viewer.locator("#video-mode")).to_have_text("· low latency")

    viewer.get_by_role("button", name="Use standard video").click()
    playing_mode(viewer, "hls")
    expect(viewer.locator("#video-mode")).to_have_text("· standard")
    ask(viewer, "Asked while watching the standard video?")

    # Reloaded: straight to HLS, WebRTC not even tried.
    whep: list[str] = []
    viewer.on("request", lambda request: whep.append(request.url) if request.url.endswith("/whep") else None)
    viewer.reload()
    playing_mode(viewer, "hls")
    assert whep == [], "the remembered choice was not used"

    viewer.get_by_role("button", name="Use low-latency video").click()
    playing_mode(viewer, "webrtc")
    expect(viewer.locator("#video-mode")).to_have_text("· low latency")
    ask(viewer, "Asked while watching the low-latency video?")
    viewer.reload()
    playing_mode(viewer, "webrtc")  # remembered too: back to the automatic choice
    assert violations(viewer) == []
    assert not watch.errors, watch.errors


def ask(viewer: Page, text: str) -> None:
    viewer.get_by_label("Your question").fill(text)
    viewer.get_by_role("button", name="Send").click()
    expect(viewer.locator("#ask-feedback")).to_have_text("Your question was sent.")
    expect(viewer.locator(".question", has_text=text)).to_contain_text("Awaiting moderation")


def test_the_admin_page_and_metrics_show_how_each_room_is_watched(
    start_live: Callable[..., LiveServer], browser: Browser
) -> None:
    server = start_live(extra=("--demo",))
    watch = Watch()
    webrtc = watch.page(browser, server)
    webrtc.goto("/r/main")
    playing_mode(webrtc, "webrtc")
    hls = watch.page(browser, server)
    hls.add_init_script(NO_WEBRTC)
    hls.goto("/r/main")
    playing_mode(hls, "hls")

    admin = watch.page(browser, server, viewport=LAPTOP)
    log_in(admin, ADMIN_KEY, "/admin")
    video = admin.locator('tr[data-room="main"] [data-field="video"]')
    expect(video.locator(".badge")).to_have_text("Live")
    expect(video.locator('[data-video="webrtc"]')).to_have_text("WebRTC viewers: 1")
    expect(video.locator('[data-video="recording"]')).to_have_text(re.compile(r"Recording: \d+\.\d MB on disk"))
    expect(video.locator('[data-video="hls"]')).to_have_text(
        re.compile(r"HLS: packaging, [1-9]\d* segments in the playlist, discontinuities: \d+")
    )
    expect(video.locator('[data-video="hls-requests"]')).to_have_text(re.compile(r"HLS segment requests: [1-9]"))
    admin.screenshot(path=str(SHOTS / "admin-video.png"))

    metrics = admin.evaluate("async () => (await fetch('/metrics')).text()")
    assert re.search(r'^live_webrtc_viewers\{room="main"\} 1\.0$', metrics, re.M), metrics
    assert re.search(r'^live_hls_packaging\{room="main"\} 1\.0$', metrics, re.M), metrics
    assert re.search(r'^live_hls_requests_total\{kind="segment",room="main"\} [1-9]', metrics, re.M), metrics
    assert not watch.errors, watch.errors


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_screenshots_of_both_modes_on_a_phone_and_a_laptop(
    start_live: Callable[..., LiveServer], browser: Browser, language: str
) -> None:
    """For a person to look at: the video card's mode and switch, in test-output/."""
    server = start_live(extra=("--demo",))
    watch = Watch()
    phone = {"viewport": PHONE, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
    for device, options in (("phone", phone), ("laptop", {"viewport": LAPTOP})):
        viewer = watch.page(browser, server, **options)
        viewer.goto(f"/r/main?lang={language}")
        playing_mode(viewer, "webrtc")
        viewer.screenshot(path=str(SHOTS / f"player-{language}-{device}-webrtc.png"))
        viewer.locator("#video-switch").click()
        playing_mode(viewer, "hls")
        viewer.screenshot(path=str(SHOTS / f"player-{language}-{device}-hls.png"))
        viewer.context.close()
    assert not watch.errors, watch.errors
