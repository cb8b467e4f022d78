"""Live video in real browsers: the broadcast page publishes Chromium's fake camera over WHIP, a
second Chromium plays it on the viewer page over WHEP, and shows "offline" when it stops."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.browser.chromium import SHOTS, launch
from tests.browser.test_pages import Watch, log_in
from tests.conftest import LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
Page = sync_api.Page
expect = sync_api.expect

FAKE_MEDIA = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]
PUBLISHER_KEY = "publisher-key-for-video-tests"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch(*FAKE_MEDIA) as browser:
        yield browser


def decoded_frames(page: Page) -> int:
    return int(page.evaluate("document.getElementById('video-player').getVideoPlaybackQuality().totalVideoFrames"))


def test_broadcast_page_goes_live_and_a_viewer_plays_it(
    start_live: Callable[..., LiveServer], browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIVE_PUBLISHER_KEY_MAIN", PUBLISHER_KEY)
    server = start_live()
    watch = Watch()

    venue = watch.page(browser, server)
    log_in(venue, PUBLISHER_KEY, "/r/main/broadcast")
    expect(venue.locator("#broadcast-camera option")).not_to_have_count(0)
    expect(venue.locator("#broadcast-start")).to_be_enabled()
    venue.locator("#broadcast-start").click()
    expect(venue.locator("#broadcast-status")).to_have_attribute("data-state", "live", timeout=15_000)

    viewer = watch.page(browser, server)
    viewer.goto("/r/main")
    expect(viewer.locator("#video")).to_have_attribute("data-state", "live", timeout=15_000)
    viewer.wait_for_function("() => document.getElementById('video-player').videoWidth > 0", timeout=15_000)
    first = decoded_frames(viewer)
    viewer.wait_for_timeout(1500)
    assert decoded_frames(viewer) > first + 10, "the viewer's video is not advancing"
    viewer.screenshot(path=str(SHOTS / "video-viewer-live.png"))
    venue.screenshot(path=str(SHOTS / "video-broadcast-live.png"))

    with venue.expect_response(lambda response: response.request.method == "DELETE") as ended:
        venue.locator("#broadcast-stop").click()
    assert ended.value.status == 200, "the WHIP session was gone before its DELETE (closed first?)"
    expect(venue.locator("#broadcast-status")).to_have_attribute("data-state", "idle")
    expect(viewer.locator("#video")).to_have_attribute("data-state", "offline", timeout=5_000)
    expect(viewer.locator("#video-player")).to_be_hidden()
    expect(viewer.locator("#video-offline")).to_be_visible()
    viewer.screenshot(path=str(SHOTS / "video-viewer-offline.png"))
    assert watch.errors == [] and watch.dialogs == []
