"""Words and times that mean one thing each: the page's connection ("Live") and the video on air
(直播中 in Chinese) read differently, and a viewer in another time zone sees the agenda's times
labelled with the event's offset (the questions' times are their own clock's)."""

from __future__ import annotations

import json

import pytest

from tests.browser.test_foyer_fit import server  # noqa: F401 (a fixture: the main forum's session is on now)
from tests.browser.test_pages import PHONE, SHOTS, Watch, browser  # noqa: F401 (browser is a fixture)
from tests.conftest import LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
expect = sync_api.expect


@pytest.mark.parametrize(("language", "connected", "on_air"), [("en", "Live", "On air"), ("zh-CN", "实时", "直播中")])
def test_the_video_on_air_and_the_live_connection_read_differently(
    server: LiveServer,  # noqa: F811
    browser: Browser,  # noqa: F811
    language: str,
    connected: str,
    on_air: str,
) -> None:
    watch = Watch()
    for viewport, size in ((PHONE, "390"), ({"width": 1920, "height": 1080}, "1920")):
        page = watch.page(browser, server, viewport=viewport, timezone_id="America/New_York")
        page.goto(f"/r/main?lang={language}")
        expect(page.locator("#live-status")).to_have_text(connected)
        video = json.loads(page.locator("#page-messages").text_content() or "{}")
        assert video["On air"] == on_air and video["On air"] != connected
        # the agenda: the event's times, labelled; the viewer's clock is five hours or so away
        now = page.locator(".now-next .session-time").first
        expect(now).to_contain_text("(UTC+8)")
        assert page.locator(".session-zone").first.get_attribute("title")
        page.screenshot(path=SHOTS / f"viewer-agenda-zone-{language}-{size}.png")
        page.goto(f"/?lang={language}")  # the lobby's now and next, too
        expect(page.locator(".session-zone").first).to_have_text("(UTC+8)")
        page.screenshot(path=SHOTS / f"lobby-agenda-zone-{language}-{size}.png")
        page.context.close()
    assert watch.errors == [], f"script errors: {watch.errors}"
