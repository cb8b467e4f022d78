"""A full disk, for real: ``live serve`` records onto a 512 KB tmpfs (mounted in a mount namespace
of its own, ``unshare``) while FFmpeg publishes. When the kernel answers ENOSPC, recording stops
with the error on the admin page (Chromium) and in the log, and the live stream goes on: a viewer
in Chromium keeps decoding pictures and the HLS playlist keeps growing. (The size limit, the other
way to stop, is tested in tests/test_replay.py.)"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser.chromium import launch
from tests.browser.test_pages import Watch, log_in
from tests.browser.test_player_modes import AUTOPLAY, LAPTOP, playing_mode
from tests.conftest import ADMIN_KEY, LiveServer, free_port
from tests.test_media import PUBLISHER_KEY, ffmpeg_publisher
from tests.test_replay import admin as admin_client

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
expect = sync_api.expect

# Mount a small tmpfs on the recordings directory ($0), then become the server ("$@").
SMALL_DISK = 'mount -t tmpfs -o size=512k tmpfs "$0" && exec "$@"'


def small_disk(mount: Path) -> tuple[str, ...]:
    """The command that runs the server with ``mount`` a 512 KB tmpfs, or skip where user and mount
    namespaces are not allowed."""
    unshare = shutil.which("unshare")
    wrapper = (unshare or "unshare", "--user", "--map-root-user", "--mount", "sh", "-c", SMALL_DISK, str(mount))
    probe = subprocess.run([*wrapper, "true"], capture_output=True) if unshare else None
    if probe is None or probe.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs in a namespace here: {probe.stderr.decode() if probe else 'no unshare'}")
    return wrapper


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch(AUTOPLAY) as browser:
        yield browser


@pytest.fixture
def on_small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    monkeypatch.setenv("LIVE_PUBLISHER_KEY_MAIN", PUBLISHER_KEY)
    mount = tmp_path / "small-disk"
    mount.mkdir()
    server = LiveServer(free_port(), tmp_path / "data", extra=("--recordings-dir", str(mount)))
    server.wrapper = small_disk(mount)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def live_sequence(server: LiveServer) -> int:
    text = httpx.get(f"{server.url}/api/rooms/main/hls/index.m3u8", timeout=10).text
    found = re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text)
    return int(found[1]) + text.count("#EXTINF") if found else 0


def wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """livetools.until for a test that drives Playwright's sync API (whose loop runs in this thread)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.2)


@pytest.mark.slow
def test_a_full_disk_stops_recording_on_the_admin_page_and_in_the_log_while_the_stream_plays(
    on_small_disk: LiveServer, browser: Browser
) -> None:
    server = on_small_disk
    publisher = ffmpeg_publisher(f"{server.url}/api/rooms/main/whip", PUBLISHER_KEY, 60)
    organiser = admin_client(server)
    try:

        def recording() -> dict[str, object]:
            return organiser.get("/api/rooms/main/video").json()["recording"]  # type: ignore[no-any-return]

        wait(lambda: recording()["error"] is not None, 30, "the disk full")
        stopped = recording()
        assert "No space left on device" in str(stopped["error"]) and stopped["recording"] is False
        assert int(stopped["segments"]) >= 2  # type: ignore[call-overload]  # it recorded until then
        assert server.log_path is not None
        log = server.log_path.read_text()
        assert "recording stopped: cannot write to" in log and "the live stream goes on" in log

        watch = Watch()
        admin = watch.page(browser, server, viewport=LAPTOP)
        log_in(admin, ADMIN_KEY, "/admin")
        line = admin.locator('tr[data-room="main"] [data-field="video"] [data-video="recording"]')
        expect(line).to_have_text(re.compile(r"^Recording stopped: .*No space left on device"))
        expect(line).to_have_class(re.compile(r"admin-video-error"))

        viewer = watch.page(browser, server)
        viewer.goto("/r/main")
        playing_mode(viewer, "webrtc")  # the live stream goes on: pictures keep coming
        newest = live_sequence(server)
        wait(lambda: live_sequence(server) >= newest + 3, 15, "the live playlist growing")
        assert recording()["segments"] == stopped["segments"]
        assert not watch.errors, watch.errors
    finally:
        publisher.kill()
        publisher.wait()
