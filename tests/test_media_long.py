"""THE LONG TEST (about 80 s; every other media test takes seconds): FFmpeg's WHIP muxer
publishes for longer than a minute, past the ~30 s after which aioice would drop a peer that
never answers ICE consent checks, as FFmpeg never does, and a viewer receives frames throughout."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

import httpx
import pytest

from bench.whep_watcher import Watcher
from tests.conftest import LiveServer
from tests.livetools import until
from tests.test_media import PUBLISHER_KEY, ffmpeg_publisher, video_status

PUBLISH_SECONDS = 75


@pytest.mark.slow
async def test_ffmpeg_publishes_for_more_than_a_minute(
    start_live: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIVE_PUBLISHER_KEY_MAIN", PUBLISHER_KEY)
    server = start_live()
    publisher = ffmpeg_publisher(
        f"{server.url}/api/rooms/main/whip", PUBLISHER_KEY, PUBLISH_SECONDS + 10, "640x360", 25
    )
    try:
        await until(lambda: video_status(server)["status"] == "live", what="the publisher to go live")
        async with httpx.AsyncClient() as client:
            watcher = Watcher(f"{server.url}/api/rooms/main/whep")
            assert await watcher.start(client) == 201
            counts = []  # frames per 5 s, window after window: a rate, so measured over fixed windows
            for _ in range(PUBLISH_SECONDS // 5):
                before = watcher.video_frames
                await asyncio.sleep(5)
                counts.append(watcher.video_frames - before)
                assert video_status(server)["status"] == "live"
            assert watcher.first_frame is not None and watcher.first_frame < 1.0
            assert min(counts) >= 100, f"frames per 5 s: {counts}"  # 25 fps, a little jitter allowed
            assert watcher.keyframes >= PUBLISH_SECONDS - 5  # one a second, forwarded untouched
            await watcher.stop(client)
    finally:
        publisher.send_signal(signal.SIGINT)
        publisher.wait(timeout=15)
