"""The admin page shows each room's recordings: the disk they take while recording and once the room
is offline again, and how long they are kept (``--recordings-keep-days``, or for ever), in both
languages."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from tests.browser.chromium import SHOTS, launch
from tests.browser.test_pages import Watch, log_in
from tests.browser.test_player_modes import LAPTOP
from tests.conftest import ADMIN_KEY, LiveServer
from tests.test_media import PUBLISHER_KEY, ffmpeg_publisher
from tests.test_replay import admin as admin_client

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
expect = sync_api.expect


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch() as browser:
        yield browser


@pytest.mark.slow
def test_the_admin_page_shows_each_rooms_disk_use_and_retention(
    start_live: Callable[..., LiveServer], browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIVE_PUBLISHER_KEY_MAIN", PUBLISHER_KEY)
    server = start_live(extra=("--recordings-keep-days", "30"))
    publisher = ffmpeg_publisher(f"{server.url}/api/rooms/main/whip", PUBLISHER_KEY, 5)  # ends by itself
    watch = Watch()
    admin = watch.page(browser, server, viewport=LAPTOP)
    log_in(admin, ADMIN_KEY, "/admin")
    video = admin.locator('tr[data-room="main"] [data-field="video"]')
    try:
        expect(video.locator(".badge")).to_have_text("Live", timeout=20_000)
        expect(video.locator('[data-video="recording"]')).to_have_text(
            re.compile(r"^Recording: (0\.[1-9]|[1-9]\d*\.\d) MB on disk$"), timeout=20_000
        )
        expect(video.locator('[data-video="retention"]')).to_have_text("Recordings kept 30 days")
        publisher.wait(timeout=30)
    finally:
        publisher.kill()
        publisher.wait()
    expect(video.locator(".badge")).to_have_text("Offline", timeout=20_000)
    on_disk = admin_client(server).get("/api/rooms/main/video").json()["recording"]["bytes"]
    expected = f"Recorded: {on_disk / 1048576:.1f} MB on disk"  # what stays on disk, once offline too
    expect(video.locator('[data-video="recording"]')).to_have_text(expected)
    expect(video.locator('[data-video="retention"]')).to_have_text("Recordings kept 30 days")
    other = admin.locator('tr[data-room="hydrogen-storage"] [data-field="video"]')
    expect(other.locator('[data-video="recording"]')).to_have_count(0)  # nothing recorded: nothing said
    admin.screenshot(path=str(SHOTS / "admin-recordings-en.png"))

    chinese = admin
    chinese.goto("/admin?lang=zh-CN")
    cell = chinese.locator('tr[data-room="main"] [data-field="video"]')
    expect(cell.locator('[data-video="recording"]')).to_have_text(f"已录制：占用 {on_disk / 1048576:.1f} MB")
    expect(cell.locator('[data-video="retention"]')).to_have_text("录制保留 30 天")
    chinese.screenshot(path=str(SHOTS / "admin-recordings-zh.png"))
    assert not watch.errors, watch.errors
