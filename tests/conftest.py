"""Shared fixtures: a private redis-server on a free port, and ``live serve`` as separate processes
(start_live) or in the test process (serve_live)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

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


TEST_ENVIRONMENT = {
    "LIVE_ADMIN_KEY": ADMIN_KEY,
    "LIVE_MODERATOR_KEY": MODERATOR_KEY,
    "LIVE_SCREEN_KEY": SCREEN_KEY,
    "LIVE_METRICS_KEY": METRICS_KEY,
    "LIVE_SECRET": "secret-shared-by-test-servers",
}


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
    wrapper: tuple[str, ...] = ()  # a command to run it under (test_recording_full_disk.py: a tmpfs)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def event_file(self) -> Path:
        """The event file served: the given one, or a copy with loopback as a venue network."""
        if not self.loopback_venue:
            return self.config
        copy = self.data_dir / "event-with-loopback-venue.toml"
        copy.write_text(self.config.read_text(encoding="utf-8") + LOOPBACK_VENUE, encoding="utf-8")
        return copy

    def arguments(self) -> list[str]:
        """What follows ``live serve`` on its command line."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        arguments = ["--port", str(self.port), "--data-dir", str(self.data_dir), "--config", str(self.event_file()),
                     "--log-level", "warning", *self.extra]  # fmt: skip
        if self.redis_url:
            arguments += ["--redis", self.redis_url]
        return arguments

    def start(self) -> None:
        import os
        import sys

        environment = {**os.environ, **TEST_ENVIRONMENT, **self.environment}
        command = [*self.wrapper, sys.executable, "-m", "live", "serve", *self.arguments()]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / f"server-{self.port}.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=REPO, env=environment, stdout=log, stderr=log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"live serve exited: {self.log_path.read_text()}")
            if self.healthy():
                return
            time.sleep(0.1)
        raise RuntimeError(f"live serve did not become healthy: {self.log_path.read_text()}")

    def healthy(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


@dataclass
class InProcessServer(LiveServer):
    """``live serve`` run inside the test process, on a thread of its own: the same command line,
    settings, app and uvicorn options (taken from ``live.cli`` as it calls uvicorn), the same real
    HTTP and WebSocket on loopback, without the second or so a new Python process costs. For tests
    where a separate process is not the point; several processes sharing a Redis still use
    ``start_live``. Prometheus metrics are the test process's own, shared by every server in it."""

    server: Any = None  # a uvicorn.Server while running
    thread: threading.Thread | None = None

    def start(self) -> None:
        import os
        from unittest import mock

        import uvicorn

        from live import cli

        captured: dict[str, Any] = {}

        def run(app: Any, **options: Any) -> None:  # instead of uvicorn.run: keep what it was given
            captured.update(app=app, options=options)

        def serve_here(*args: Any, **kwargs: Any) -> None:  # fail, rather than serve on this thread for ever
            raise AssertionError("live.cli no longer serves through uvicorn.run: update InProcessServer")

        self.data_dir.mkdir(parents=True, exist_ok=True)
        environment = {**TEST_ENVIRONMENT, **self.environment}
        with (
            mock.patch.dict(os.environ, environment),
            mock.patch.object(uvicorn, "run", run),
            mock.patch.object(uvicorn.Server, "run", serve_here),
        ):
            assert cli.main(["serve", *self.arguments()]) == 0
        self.server = uvicorn.Server(uvicorn.Config(captured["app"], **captured["options"]))
        self.thread = threading.Thread(target=self.server.run, name=f"live-serve-{self.port}", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not (self.server.started and self.healthy()):
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("live serve (in process) did not start: see the captured log")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(timeout=15)
            assert not self.thread.is_alive(), "live serve (in process) did not stop"
            self.server = self.thread = None


Server = TypeVar("Server", bound=LiveServer)


def servers_for_one_test(kind: type[Server], tmp_path: Path) -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(
        redis_url: str | None = None,
        data_dir: Path | None = None,
        extra: tuple[str, ...] = (),
        loopback_venue: bool = True,
    ) -> Server:
        directory = data_dir or tmp_path / f"data-{len(servers)}"
        server = kind(free_port(), directory, redis_url, extra=extra, loopback_venue=loopback_venue)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def start_live(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Starts ``live serve`` processes for a test and stops them after it."""
    yield from servers_for_one_test(LiveServer, tmp_path)


@pytest.fixture
def serve_live(tmp_path: Path) -> Iterator[Callable[..., InProcessServer]]:
    """Starts ``live serve`` in this process (InProcessServer) for a test and stops it after it."""
    yield from servers_for_one_test(InProcessServer, tmp_path)
