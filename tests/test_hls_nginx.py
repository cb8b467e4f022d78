"""The shipped nginx configuration's HLS part, with Debian's real nginx in front of a real
``live serve``: a second viewer's segment is a cache hit, a playlist is kept until the end of its
second, a burst of viewers asking for a new segment at once reaches the app once, so does a burst
of players blocking on the next segment's playlist (``_HLS_msn``), and with two processes on Redis,
nginx fetches from the hosting one what the other one redirects, blocking reloads included."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import httpx
import pytest

from tests.conftest import METRICS_KEY, REPO, LiveServer, RedisServer, free_port
from tests.livetools import until
from tests.test_media import PUBLISHER_KEY, ffmpeg_publisher

NGINX = Path("/usr/sbin/nginx")
BURST = 50


def hls_parts(config: str) -> tuple[str, str]:
    """The shipped file's two HLS parts (http level, server level), between their markers."""
    http_part = re.search(r"# --- HLS \(http\).*?\n(.*?)# --- end HLS", config, re.S)
    server_part = re.search(r"# --- HLS \(server\)\n(.*?)# --- end HLS", config, re.S)
    assert http_part and server_part, "deploy/nginx.conf lost its HLS markers"
    return http_part[1], server_part[1]


@pytest.fixture
def start_nginx(tmp_path: Path) -> Iterator[Callable[[LiveServer], Awaitable[str]]]:
    """Starts nginx with the shipped HLS part in front of one app process; returns its URL."""
    if not NGINX.exists():
        pytest.fail("nginx is not installed: run `make system-packages` (Debian's nginx package)")
    processes: list[subprocess.Popen[bytes]] = []

    async def start(app: LiveServer) -> str:
        http_part, server_part = hls_parts((REPO / "deploy" / "nginx.conf").read_text())
        port = free_port()
        temp = "".join(f"{name}_temp_path {tmp_path / name};" for name in ("proxy", "fastcgi", "uwsgi", "scgi"))
        config = f"""
{"user root;" if os.geteuid() == 0 else ""}
daemon off;
worker_processes 2;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log warn;
events {{}}
http {{
    access_log off;
    client_body_temp_path {tmp_path / "client"};
    {temp}
    {http_part.replace("/var/cache/nginx/hls", str(tmp_path / "cache"))}
    upstream live {{ server 127.0.0.1:{app.port}; }}
    server {{
        listen 127.0.0.1:{port};
        {server_part}
    }}
}}
"""  # fmt: skip
        (tmp_path / "nginx.conf").write_text(config)
        process = subprocess.Popen(
            [str(NGINX), "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        await until(lambda: _answers(url) or process.poll() is not None, 10, "nginx")
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        return url

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        httpx.get(f"{url}/api/rooms/nowhere/hls/index.m3u8", timeout=1)
        return True
    except httpx.HTTPError:
        return False


def segments_served(app: LiveServer, kind: str = "segment") -> float:
    """The app's own count of the segments (or playlists) it answered (the Prometheus counter)."""
    metrics = httpx.get(f"{app.url}/metrics", headers={"Authorization": f"Bearer {METRICS_KEY}"}).text
    found = re.search(rf'live_hls_requests_total\{{kind="{kind}",room="main"\}} ([0-9.]+)', metrics)
    return float(found[1]) if found else 0.0


def newest_number(url: str) -> int:
    return int(newest_segment(url).rsplit("-", 1)[1].split(".")[0])


def newest_segment(url: str) -> str:
    playlist = httpx.get(f"{url}/api/rooms/main/hls/index.m3u8", timeout=10)
    assert playlist.status_code == 200, playlist.text
    return [line for line in playlist.text.splitlines() if line and not line.startswith("#")][-1]


async def test_nginx_caches_segments_and_one_request_per_new_segment_reaches_the_app(
    start_live: Callable[..., LiveServer], start_nginx: Callable[[LiveServer], Awaitable[str]]
) -> None:
    app = start_live(extra=("--demo",))
    proxy = await start_nginx(app)
    hls = f"{proxy}/api/rooms/main/hls"
    first = newest_segment(proxy)  # wakes the demo; the app waits for its first segment
    viewers = [httpx.get(f"{hls}/{first}") for _ in range(2)]
    assert [v.status_code for v in viewers] == [200, 200] and viewers[0].content == viewers[1].content
    assert [v.headers["x-cache-status"] for v in viewers] == ["MISS", "HIT"]
    assert viewers[1].headers["cache-control"] == "public, max-age=86400, immutable"

    for _ in range(5):  # a playlist is kept until the end of its second: try a pair within one
        second = int(time.time())
        pair = [httpx.get(f"{hls}/index.m3u8") for _ in range(2)]
        if int(time.time()) == second:
            break
    assert pair[1].headers["x-cache-status"] == "HIT" and pair[1].text == pair[0].text

    before = segments_served(app)
    await until(lambda: newest_segment(app.url) != first, 5, "a new segment")
    fresh = newest_segment(app.url)  # from the app itself: nginx has not seen it
    burst = await asyncio.to_thread(at_once, proxy, f"/api/rooms/main/hls/{fresh}", BURST)
    assert {status for status, _, _ in burst} == {200}
    assert len({body for _, _, body in burst}) == 1
    assert segments_served(app) - before == 1, "the burst reached the app more than once"
    assert sum(cache == "MISS" for _, cache, _ in burst) == 1


async def test_players_blocking_on_the_next_segment_reach_the_app_once_and_get_it_the_moment_it_exists(
    start_live: Callable[..., LiveServer], start_nginx: Callable[[LiveServer], Awaitable[str]]
) -> None:
    app = start_live(extra=("--demo",))
    proxy = await start_nginx(app)
    newest_segment(proxy)  # wakes the demo
    following = newest_number(app.url) + 1  # not made yet: every player's request is held
    before = segments_served(app, "playlist")
    path = f"/api/rooms/main/hls/index.m3u8?_HLS_msn={following}"
    burst = await asyncio.to_thread(at_once, proxy, path, BURST)
    assert {status for status, _, _ in burst} == {200}
    assert len({body for _, _, body in burst}) == 1 and f"-{following}.m4s\n".encode() in burst[0][2]
    assert segments_served(app, "playlist") - before == 1, "the burst reached the app more than once"
    assert sum(cache == "MISS" for _, cache, _ in burst) == 1
    # Another player, later, kept whatever else it adds; nginx's $arg_ and the app match in any case.
    later = httpx.get(f"{proxy}/api/rooms/main/hls/index.m3u8?_hls_msn={following}&_HLS_skip=YES")
    assert later.headers["x-cache-status"] == "HIT" and later.content == burst[0][2]
    assert later.headers["cache-control"] == "public, max-age=3"


def at_once(url: str, path: str, count: int) -> list[tuple[int, str, bytes]]:
    """``count`` viewers asking for one path at the same moment: each connection has been
    accepted and answered once (an unknown file) before the first of them asks. Returns each
    answer's status, X-Cache-Status and body."""
    host, port = url.removeprefix("http://").split(":")
    connections = [socket.create_connection((host, int(port)), timeout=10) for _ in range(count)]
    readers = [connection.makefile("rb") for connection in connections]
    for connection, reader in zip(connections, readers, strict=True):
        connection.sendall(f"GET /api/rooms/main/hls/unknown HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        assert read_answer(reader)[0] == 404
    for connection in connections:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    answers = [read_answer(reader) for reader in readers]
    for connection, reader in zip(connections, readers, strict=True):
        reader.close()
        connection.close()
    return answers


def read_answer(reader: BinaryIO) -> tuple[int, str, bytes]:
    status = int(reader.readline().split(b" ")[1])
    headers = {}
    while (line := reader.readline().strip()) != b"":
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode()] = value.strip().decode()
    body = reader.read(int(headers["content-length"]))
    return status, headers.get("x-cache-status", ""), body


async def test_nginx_fetches_from_the_hosting_process_what_the_other_one_redirects(
    start_live: Callable[..., LiveServer],
    start_nginx: Callable[[LiveServer], Awaitable[str]],
    redis_server: RedisServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIVE_PUBLISHER_KEY_MAIN", PUBLISHER_KEY)
    host, other = start_live(redis_url=redis_server.url), start_live(redis_url=redis_server.url)
    proxy = await start_nginx(other)  # nginx reaches only the process without the publisher
    publisher = ffmpeg_publisher(f"{host.url}/api/rooms/main/whip", PUBLISHER_KEY, 60)
    try:
        redirected = f"{other.url}/api/rooms/main/hls/index.m3u8"
        await until(lambda: httpx.get(redirected).status_code == 307, 20, "the other process to redirect")
        redirect = httpx.get(f"{other.url}/api/rooms/main/hls/index.m3u8")
        assert redirect.headers["location"] == f"{host.url}/api/rooms/main/hls/index.m3u8"
        name = newest_segment(proxy)  # nginx followed the redirect: the viewer sees a playlist
        viewers = [httpx.get(f"{proxy}/api/rooms/main/hls/{name}") for _ in range(2)]
        assert [v.status_code for v in viewers] == [200, 200]
        assert [v.headers["x-cache-status"] for v in viewers] == ["MISS", "HIT"]
        assert "location" not in viewers[0].headers
        blocking = httpx.get(f"{other.url}/api/rooms/main/hls/index.m3u8?_HLS_msn=3")  # the query goes along
        assert blocking.headers["location"] == f"{host.url}/api/rooms/main/hls/index.m3u8?_HLS_msn=3"
        following = newest_number(host.url) + 1
        held = httpx.get(f"{proxy}/api/rooms/main/hls/index.m3u8?_HLS_msn={following}", timeout=10)
        assert held.status_code == 200 and f"-{following}.m4s\n" in held.text
        assert held.headers["cache-control"] == "public, max-age=3"
    finally:
        publisher.kill()
        publisher.wait()
