"""Two ``live serve`` processes on one Redis: the stream lives where its publisher connected; a
viewer reaching the other process is redirected there (307), and both processes' pages learn
when the room goes live and offline."""

from __future__ import annotations

import signal
from collections.abc import Callable

import httpx
import pytest

from bench.whep_watcher import Watcher
from tests.conftest import LiveServer, RedisServer
from tests.livetools import Person, until
from tests.test_media import PUBLISHER_KEY, ffmpeg_publisher, offer


async def test_a_viewer_on_the_other_process_is_redirected(
    start_live: Callable[..., LiveServer], redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIVE_PUBLISHER_KEY_MAIN", PUBLISHER_KEY)
    near = start_live(redis_url=redis_server.url)
    far = start_live(redis_url=redis_server.url)
    page = Person(far)
    stream = await page.connect("main")
    await stream.receive_until("snapshot")

    publisher = ffmpeg_publisher(f"{near.url}/api/rooms/main/whip", PUBLISHER_KEY, 60)
    try:
        live = await stream.receive(timeout=15)  # on the far process, from the directory
        assert live["type"] == "video" and live["status"] == "live" and live["stream"]
        redirect = httpx.post(
            f"{far.url}/api/rooms/main/whep", content=offer("recvonly"), headers={"Content-Type": "application/sdp"}
        )
        assert redirect.status_code == 307
        assert redirect.headers["location"] == f"{near.url}/api/rooms/main/whep"
        far_status = httpx.get(f"{far.url}/api/rooms/main/video").json()
        assert far_status["live"] is True and far_status["publisher"]["here"] is False
        async with httpx.AsyncClient() as client:
            watcher = Watcher(f"{far.url}/api/rooms/main/whep")
            assert await watcher.start(client) == 201
            assert watcher.resource is not None and watcher.resource.startswith(near.url)
            await until(lambda: watcher.video_frames > 15, what="frames through the other process's redirect")
            assert watcher.first_frame is not None and watcher.first_frame < 1.0
            await watcher.stop(client)
    finally:
        publisher.send_signal(signal.SIGINT)
        publisher.wait(timeout=10)
    assert await stream.receive(timeout=5) == {"type": "video", "status": "offline"}
    await stream.close()
