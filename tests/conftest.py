"""Shared fixtures: a private redis-server on a free port, and engines of both kinds."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RedisServer:
    """A redis-server process the tests own: it can be stopped and started on the same data."""

    directory: Path
    port: int
    appendonly: bool = True
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: run the README's test command, which installs it")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--save", "", "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", "always"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()  # SIGTERM: Redis flushes its append-only file and exits
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server for one test, for tests that stop and restart it."""
    server = RedisServer(tmp_path / "redis", free_port())
    server.directory.mkdir()
    server.start()
    yield server
    server.stop()


ADMIN_KEY = "admin-key-for-tests"
MODERATOR_KEY = "moderator-key-for-tests"
SCREEN_KEY = "screen-key-for-tests"
METRICS_KEY = "metrics-key-for-tests"
REPO = Path(__file__).resolve().parent.parent
# Tests open hundreds of connections and identities from loopback: like a venue's Wi-Fi, it is
# declared a venue network (added to a copy of the event file); the shipped file declares none.
LOOPBACK_VENUE = """
[[venue_networks]]
name = "loopback (tests)"
networks = ["127.0.0.0/8", "::1/128"]
phones = 5000
"""


@dataclass
class LiveServer:
    """A real ``live serve`` process, as an organiser would start it."""

    port: int
    data_dir: Path
    redis_url: str | None = None
    config: Path = REPO / "config" / "summit-2023.toml"
    extra: tuple[str, ...] = ()
    environment: dict[str, str] = field(default_factory=dict)  # on top of the test keys and secret
    loopback_venue: bool = True  # False: loopback is an ordinary address, as in the shipped event file
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> None:
        import os
        import sys
        import urllib.request

        environment = {
            **os.environ,
            "LIVE_ADMIN_KEY": ADMIN_KEY,
            "LIVE_MODERATOR_KEY": MODERATOR_KEY,
            "LIVE_SCREEN_KEY": SCREEN_KEY,
            "LIVE_METRICS_KEY": METRICS_KEY,
            "LIVE_SECRET": "secret-shared-by-test-servers",
            **self.environment,
        }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.config
        if self.loopback_venue:
            config = self.data_dir / "event-with-loopback-venue.toml"
            config.write_text(self.config.read_text(encoding="utf-8") + LOOPBACK_VENUE, encoding="utf-8")
        command = [sys.executable, "-m", "live", "serve", "--port", str(self.port), "--data-dir", str(self.data_dir),
                   "--config", str(config), "--log-level", "warning", *self.extra]  # fmt: skip
        if self.redis_url:
            command += ["--redis", self.redis_url]
        self.log_path = self.data_dir / f"server-{self.port}.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=REPO, env=environment, stdout=log, stderr=log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"live serve exited: {self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"live serve did not become healthy: {self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


@pytest.fixture
def start_live(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Starts ``live serve`` processes for a test and stops them after it."""
    servers: list[LiveServer] = []

    def start(
        redis_url: str | None = None,
        data_dir: Path | None = None,
        extra: tuple[str, ...] = (),
        loopback_venue: bool = True,
    ) -> LiveServer:
        directory = data_dir or tmp_path / f"data-{len(servers)}"
        server = LiveServer(free_port(), directory, redis_url, extra=extra, loopback_venue=loopback_venue)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
