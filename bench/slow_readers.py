"""What a live-stream client that never reads costs the server, in a room with many questions.

Each new connection gets the room's snapshot first. A client that stops reading used to pin a
copy of it in its socket's asyncio buffer (1,000 of them took a server from 158 MB to 1.41 GB);
now the snapshot's shared head waits as a reference and is handed over a chunk at a time as the
client reads (live/web/frames.py FrameWriter). This script measures the server's resident memory
with a room of --questions public questions, before and after --clients connections that read
nothing (their kernel receive buffer set small), and, in the same run, after as many that read
their snapshot and then idle: the baseline. Loopback only; it stops by itself.

    .venv/bin/python bench/slow_readers.py --questions 5000 --clients 1000
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
ADMIN_KEY = "admin-key-for-the-slow-reader-bench"
LOOPBACK_VENUE = '\n[[venue_networks]]\nname = "loopback (bench)"\nnetworks = ["127.0.0.0/8"]\nphones = 100000\n'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def start_server(data: Path, port: int) -> subprocess.Popen[bytes]:
    config = data / "event.toml"
    config.write_text((REPO / "config" / "summit-2023.toml").read_text(encoding="utf-8") + LOOPBACK_VENUE)
    environment = {**os.environ, "LIVE_ADMIN_KEY": ADMIN_KEY, "LIVE_SECRET": "slow-reader-bench-secret-0123456789"}
    command = [sys.executable, "-m", "live", "serve", "--port", str(port), "--data-dir", str(data),
               "--config", str(config), "--log-level", "warning"]  # fmt: skip
    return subprocess.Popen(command, cwd=REPO, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fill_room(base: str, questions: int) -> int:
    """Ask ``questions`` questions as a moderator (not rate limited) into a post-moderation room."""
    with httpx.Client(base_url=base, timeout=30) as client:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert client.post("/api/login", json={"key": ADMIN_KEY}).status_code == 200
        send = lambda command: client.post("/api/rooms/main/commands", json=command)  # noqa: E731
        assert send({"type": "set_moderation", "mode": "post"}).status_code == 200
        for number in range(questions):
            text = f"Question {number}: how will the carbon footprint of batteries be counted? 氢能与电池"
            assert send({"type": "ask_question", "text": text}).status_code == 200
        snapshot = client.get("/api/rooms/main").content
        return len(snapshot)


async def open_stream(port: int, reads: bool) -> socket.socket:
    """A live-stream connection (the upgrade request sent by hand) that reads everything, or
    nothing at all, not even the handshake's answer: a phone that stopped reading."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /ws/rooms/main HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")  # fmt: skip
    await loop.sock_sendall(sock, request.encode())
    if reads:
        READERS.add(loop.create_task(_drain(sock)))
    return sock


READERS: set[asyncio.Task[None]] = set()


async def _drain(sock: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    while await loop.sock_recv(sock, 1 << 16):
        pass


async def measure(port: int, pid: int, clients: int, reads: bool, settle: float) -> float:
    before = rss_mb(pid)
    streams = [await open_stream(port, reads) for _ in range(clients)]
    await asyncio.sleep(settle)  # the server writes what each socket takes, then waits
    after = rss_mb(pid)
    for sock in streams:
        sock.close()
    for task in READERS:
        task.cancel()
    READERS.clear()
    await asyncio.sleep(settle)
    return (after - before) * 1024 / clients  # KB per connection


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--settle", type=float, default=3.0)
    arguments = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as directory:
        port = free_port()
        server = start_server(Path(directory), port)
        try:
            snapshot = fill_room(f"http://127.0.0.1:{port}", arguments.questions)
            size = f"snapshot {snapshot / 1024:.0f} KB; server {rss_mb(server.pid):.0f} MB"
            print(f"room: {arguments.questions} questions, {size}")
            # Never-reading first: the allocator has not yet kept memory from an earlier round.
            idle = asyncio.run(measure(port, server.pid, arguments.clients, False, arguments.settle))
            reading = asyncio.run(measure(port, server.pid, arguments.clients, True, arguments.settle))
            print(f"{arguments.clients} clients that read their snapshot, then idle: {reading:.1f} KB each (baseline)")
            print(f"{arguments.clients} clients that never read:                    {idle:.1f} KB each")
            print(f"ratio never-reading / reading: {idle / reading:.2f}" if reading > 0 else "")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
