"""What faces the internet, tried as an attacker would on a real server: bodies too large to read,
guessable keys, login forgery and copied cookies, missing headers, leaks and idle connections."""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import select
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import websockets

from live.access import WeakCredential, check_strength
from live.cli import raise_open_file_limit
from live.engines.redis import RedisStorage
from live.engines.sqlite import SqliteStorage
from live.engines.storage import Storage
from live.web.connections import ConnectionCounter, trusted_proxies

from .conftest import ADMIN_KEY, MODERATOR_KEY, REPO, LiveServer, RedisServer, free_port
from .livetools import Person

StartLive = Callable[..., LiveServer]


# -- bodies: the cap holds while the body arrives, chunked or not ----------------------------------
def _chunked_post_until_answered(server: LiveServer, path: str, content_type: str) -> tuple[bytes, int]:
    """Sends up to 32 MiB as chunks, and stops as soon as the server answers: (answer, bytes sent)."""
    chunk = b"x" * 16384
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sent = 0
    try:
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: {content_type}\r\n"
        sock.sendall(f"{head}Transfer-Encoding: chunked\r\n\r\n".encode())
        for _ in range(2048):
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(b"4000\r\n" + chunk + b"\r\n")
            except OSError:  # the server closed it after answering
                break
            sent += len(chunk)
        answer = b""
        deadline = time.monotonic() + 10
        while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
            part = sock.recv(65536)
            if not part:
                break
            answer += part
        return answer, sent
    finally:
        sock.close()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/rooms/main/commands", "application/json"),
        ("/api/me", "application/json"),
        ("/login", "application/x-www-form-urlencoded"),
        ("/api/rooms/main/whep", "application/sdp"),
    ],
)
def test_a_chunked_body_over_the_cap_is_refused_before_it_is_all_sent(
    start_live: StartLive, path: str, content_type: str
) -> None:
    server = start_live()
    answer, sent = _chunked_post_until_answered(server, path, content_type)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 4 * 1024 * 1024  # answered after the cap, long before the 32 MiB were sent
    body = answer.split(b"\r\n\r\n", 1)[1]
    if body:
        assert b'"too_large"' in body


def test_a_declared_length_over_the_cap_is_refused_with_too_large(start_live: StartLive) -> None:
    server = start_live()
    huge = httpx.post(
        f"{server.url}/api/rooms/main/whep", content=b"v=0\r\n" * 20_000, headers={"content-type": "application/sdp"}
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "too_large"
    assert huge.headers["access-control-allow-origin"] == "*"  # WHEP keeps its CORS


# -- keys and secret ------------------------------------------------------------------------------
def _example_values() -> dict[str, str]:
    lines = (REPO / ".env.example").read_text("utf-8").splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def test_every_placeholder_in_env_example_is_refused() -> None:
    credentials = {name: value for name, value in _example_values().items() if "KEY" in name or "SECRET" in name}
    assert credentials
    for name, value in credentials.items():
        with pytest.raises(WeakCredential, match=name):
            check_strength(name, value)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LIVE_ADMIN_KEY", "change-me-admin"),
        ("LIVE_SECRET", "change-me-to-a-long-random-string"),
        ("LIVE_MODERATOR_KEY", "short-key"),
        ("LIVE_PUBLISHER_KEY_MAIN", "fifteen-chars!!"),
    ],
)
def test_serve_refuses_to_start_with_a_weak_key_or_secret(tmp_path: Path, variable: str, value: str) -> None:
    environment = {
        **os.environ,
        "LIVE_ADMIN_KEY": ADMIN_KEY,
        "LIVE_MODERATOR_KEY": MODERATOR_KEY,
        "LIVE_SECRET": "secret-shared-by-test-servers",
        variable: value,
    }
    command = [sys.executable, "-m", "live", "serve", "--port", str(free_port()), "--data-dir", str(tmp_path)]
    done = subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert variable in done.stderr and "refusing to start" in done.stderr


def test_a_short_key_in_the_keys_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "keys.json").write_text(json.dumps({"admin": "tiny", "moderator": "m" * 20}))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LIVE_")}
    command = [sys.executable, "-m", "live", "serve", "--port", str(free_port()), "--data-dir", str(tmp_path)]
    done = subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "keys.json: admin" in done.stderr, done.stderr


# -- logins ---------------------------------------------------------------------------------------
def test_guessing_keys_is_limited_per_address(start_live: StartLive) -> None:
    server = start_live()
    statuses = []
    for number in range(30):
        guesser = httpx.Client(base_url=server.url)  # a new cookie each time changes nothing
        statuses.append(guesser.post("/api/login", json={"key": f"guess-{number:04d}-xxxxxxxx"}).status_code)
    assert statuses[:10] == [403] * 10
    assert 429 in statuses and statuses.count(403) < 15
    refused = httpx.post(f"{server.url}/login", data={"key": ADMIN_KEY})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1


def test_login_and_logout_from_another_site_are_refused(start_live: StartLive) -> None:
    server = start_live()
    victim = Person(server)
    victim.login(MODERATOR_KEY)
    forged = httpx.post(
        f"{server.url}/login", data={"key": ADMIN_KEY}, headers={"origin": "https://evil.example"}
    )  # login CSRF: the attacker's own key into the victim's browser
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "forbidden"
    for headers in ({"origin": "https://evil.example"}, {"origin": "null"}, {"referer": "http://evil.example/x"}):
        assert victim.http.post("/logout", headers=headers).status_code == 403
        assert victim.http.post("/api/logout", headers=headers).status_code == 403
    wrong_scheme = {"origin": f"https://127.0.0.1:{server.port}"}
    assert victim.http.post("/api/logout", headers=wrong_scheme).status_code == 403
    assert victim.http.get("/api/me").json()["grants"]  # still logged in
    own = victim.http.post("/api/logout", headers={"origin": server.url})
    assert own.status_code == 200 and victim.http.get("/api/me").json()["grants"] == []


@pytest.mark.parametrize("engine", ["embedded", "redis"])
async def test_logging_out_ends_every_copy_of_the_cookie(
    start_live: StartLive, redis_server: RedisServer, engine: str
) -> None:
    first = start_live(redis_url=redis_server.url if engine == "redis" else None)
    servers = [first, start_live(redis_url=redis_server.url)] if engine == "redis" else [first]
    moderator = Person(first)
    moderator.login(MODERATOR_KEY)
    copies = [httpx.Client(base_url=server.url, cookies=moderator.http.cookies) for server in servers]
    for copy in copies:
        assert copy.get("/r/main/moderate", follow_redirects=False).status_code == 200
    assert moderator.http.post("/logout", follow_redirects=False).status_code == 303
    for copy, server in zip(copies, servers, strict=True):
        console = copy.get("/r/main/moderate", follow_redirects=False)
        assert console.status_code == 303 and console.headers["location"].startswith("/login")
        assert copy.get("/api/me").json()["grants"] == []
        cookie = "; ".join(f"{name}={value}" for name, value in moderator.http.cookies.items())
        async with websockets.connect(
            f"{server.ws_url}/ws/rooms/main?as=moderator", additional_headers={"Cookie": cookie}
        ) as stream:
            assert json.loads(await stream.recv())["code"] == "forbidden"
    moderator.login(MODERATOR_KEY)  # logging in again is a new login, not a revoked one
    assert moderator.http.get("/r/main/moderate", follow_redirects=False).status_code == 200


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_a_revoked_login_is_remembered_by_the_storage(
    tmp_path: Path, redis_server: RedisServer, kind: str
) -> None:
    storage: Storage = (
        SqliteStorage(tmp_path / "rooms.sqlite3") if kind == "sqlite" else RedisStorage(redis_server.url, f"t{kind}")
    )
    await storage.open()
    try:
        assert not await storage.is_login_revoked("login-1")
        await storage.revoke_login("login-1", 60)
        await storage.revoke_login("login-1", 60)  # twice is once
        assert await storage.is_login_revoked("login-1") and not await storage.is_login_revoked("login-2")
    finally:
        await storage.close()


# -- headers --------------------------------------------------------------------------------------
def test_every_response_has_the_security_headers(start_live: StartLive) -> None:
    server = start_live()
    for path in ("/", "/r/main", "/login", "/api/event", "/static/lib/stream.js", "/healthz", "/api/nothing"):
        headers = httpx.get(f"{server.url}{path}").headers
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "unsafe" not in policy
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "strict-transport-security" not in headers  # plain HTTP: no HSTS
    preflight = httpx.options(f"{server.url}/api/rooms/main/whep")
    assert preflight.headers["access-control-allow-origin"] == "*"


def test_hsts_only_with_secure_cookies(start_live: StartLive) -> None:
    server = start_live(extra=("--secure-cookies",))
    assert httpx.get(f"{server.url}/").headers["strict-transport-security"].startswith("max-age=")


def test_templates_have_no_inline_script_or_style() -> None:
    for template in (REPO / "web" / "templates").glob("*.html"):
        text = template.read_text("utf-8")
        assert not re.search(r"\sstyle=", text), template.name
        assert not re.search(r"\son[a-z]+=", text), template.name
        for opening in re.findall(r"<script\b[^>]*>", text):
            assert 'type="application/json"' in opening or "src=" in opening, (template.name, opening)


# -- leaks ----------------------------------------------------------------------------------------
def test_the_publishers_software_is_for_moderators_only(start_live: StartLive) -> None:
    server = start_live(extra=("--demo",))
    moderator = Person(server)
    moderator.login(MODERATOR_KEY)
    deadline = time.monotonic() + 20
    while moderator.http.get("/api/rooms/main/video").json().get("publisher") is None:
        assert time.monotonic() < deadline, "the demo stream did not start"
        time.sleep(0.2)
    assert moderator.http.get("/api/rooms/main/video").json()["publisher"]["software"] == "demo"
    public = httpx.get(f"{server.url}/api/rooms/main/video").json()["publisher"]
    assert "software" not in public and "process" not in public and "since" in public


def test_healthz_names_no_file(start_live: StartLive) -> None:
    server = start_live()
    health = httpx.get(f"{server.url}/healthz")
    assert health.json() == {"engine": "embedded", "ok": True}
    assert str(server.data_dir) not in health.text


async def test_the_stream_origin_must_match_the_scheme_too(start_live: StartLive) -> None:
    server = start_live()
    viewer = Person(server)
    headers = {"Cookie": viewer.cookie, "Origin": f"https://127.0.0.1:{server.port}"}
    async with websockets.connect(f"{server.ws_url}/ws/rooms/main", additional_headers=headers) as stream:
        assert json.loads(await stream.recv())["code"] == "forbidden"
    headers["Origin"] = server.url
    async with websockets.connect(f"{server.ws_url}/ws/rooms/main", additional_headers=headers) as stream:
        assert json.loads(await stream.recv())["type"] == "snapshot"
    headers["X-Forwarded-Proto"] = "https"  # from 127.0.0.1, the trusted proxy by default: wss
    headers["Origin"] = f"https://127.0.0.1:{server.port}"
    async with websockets.connect(f"{server.ws_url}/ws/rooms/main", additional_headers=headers) as stream:
        assert json.loads(await stream.recv())["type"] == "snapshot"


@pytest.mark.parametrize("query", ["epoch=abc&offset=%C2%B2", "epoch=abc&offset=-1", "epoch=abc&offset=1e3"])
async def test_a_resume_offset_that_is_not_ascii_digits_gets_a_snapshot(start_live: StartLive, query: str) -> None:
    server = start_live()
    viewer = Person(server)
    url = f"{server.ws_url}/ws/rooms/main?{query}"
    async with websockets.connect(url, additional_headers={"Cookie": viewer.cookie}) as stream:
        assert json.loads(await stream.recv())["type"] == "snapshot"
    assert server.log_path is not None and "Traceback" not in server.log_path.read_text()


def test_the_database_files_are_readable_by_their_owner_only(start_live: StartLive) -> None:
    previous = os.umask(0o022)  # the usual umask, which makes new files world-readable
    try:
        server = start_live()
    finally:
        os.umask(previous)
    moderator = Person(server)
    moderator.login(MODERATOR_KEY)
    moderator.ok("main", {"type": "ask_question", "text": "Is the database private?"})
    files = sorted(server.data_dir.glob("*.sqlite3*"))
    assert {path.name.rsplit(".", 1)[-1] for path in files} >= {"sqlite3", "sqlite3-wal", "sqlite3-shm"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


# -- idle connections -----------------------------------------------------------------------------
def _closed_by_server(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(4096) == b""
    except OSError:
        return True


def test_slow_request_heads_are_closed_and_others_still_served(start_live: StartLive) -> None:
    server = start_live(extra=("--header-timeout", "2"))
    slow = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(50)]
    for sock in slow:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    started, closed = time.monotonic(), set()
    deadline = started + 15
    while len(closed) < len(slow):
        assert time.monotonic() < deadline, f"{len(slow) - len(closed)} slow connections still open"
        for number, sock in enumerate(slow):
            if number in closed:
                continue
            if _closed_by_server(sock):
                closed.add(number)
                continue
            try:
                sock.sendall(b"X")  # one header byte a tick: never a whole head
            except OSError:
                closed.add(number)
        assert httpx.get(f"{server.url}/api/event", timeout=5).status_code == 200
        time.sleep(0.5)
    assert time.monotonic() - started >= 1.5  # closed by the timeout, not at once
    for sock in slow:
        sock.close()


def test_a_huge_request_head_is_refused(start_live: StartLive) -> None:
    server = start_live()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    try:
        for _ in range(1000):  # 1 MB of headers, where 64 KiB is the limit
            sock.sendall(b"X-Pad: " + b"a" * 1000 + b"\r\n")
        sock.sendall(b"\r\n")
    except OSError:
        pass  # closed by the server while sending
    try:
        answer = sock.recv(64)
    except OSError:
        answer = b""
    sock.close()
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431"), answer


async def test_one_address_holds_a_bounded_number_of_connections(start_live: StartLive) -> None:
    options = ("--max-connections-per-address", "6", "--header-timeout", "30")
    server = start_live(extra=(*options, "--forwarded-allow-ips", "10.9.8.7"))  # loopback: no proxy, capped
    viewer = Person(server)
    cookie = viewer.cookie
    viewer.close()
    streams = [
        await websockets.connect(f"{server.ws_url}/ws/rooms/main", additional_headers={"Cookie": cookie})
        for _ in range(3)
    ]
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(3)]
    deadline = time.monotonic() + 5
    while True:  # the six are counted once the server has accepted them
        extra = socket.create_connection(("127.0.0.1", server.port))
        extra.settimeout(5)
        if extra.recv(1) == b"":
            extra.close()
            break
        extra.close()
        assert time.monotonic() < deadline, "a seventh connection was kept open"
    for stream in streams:
        await stream.close()
    for sock in idle:
        sock.close()
    deadline = time.monotonic() + 5
    while not _all_answered_at_once(server, 6):  # released when they close: WebSocket and HTTP alike
        assert time.monotonic() < deadline, "closed connections were not released"
        time.sleep(0.1)


def _all_answered_at_once(server: LiveServer, count: int) -> bool:
    sockets = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(count)]
    try:
        for sock in sockets:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        for sock in sockets:
            sock.settimeout(5)
            if not sock.recv(12).startswith(b"HTTP/1.1 200"):
                return False
        return True
    except OSError:
        return False
    finally:
        for sock in sockets:
            sock.close()


def test_a_trusted_proxys_connections_are_not_capped() -> None:
    def transports(count: int) -> list[asyncio.Transport]:
        return [asyncio.Transport() for _ in range(count)]

    counter = ConnectionCounter(2, trusted_proxies("10.0.0.0/8, 192.0.2.1"))
    assert all(counter.admit(transport, "10.1.2.3") for transport in transports(4))
    assert all(counter.admit(transport, "192.0.2.1") for transport in transports(4))
    client = transports(4)
    assert [counter.admit(transport, "192.0.2.2") for transport in client] == [True, True, False, False]
    counter.release(client[0])
    counter.release(client[0])  # counted once, released once
    assert counter.admit(client[2], "192.0.2.2") and not counter.admit(client[3], "192.0.2.2")
    everyone = ConnectionCounter(1, trusted_proxies("*"))
    assert all(everyone.admit(transport, "203.0.113.9") for transport in transports(3))


def test_serve_raises_its_open_file_limit_to_the_hard_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowered = min(soft, 256)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowered, hard))
    try:
        raised, same_hard = raise_open_file_limit()
        assert same_hard == hard
        assert raised == (hard if hard != resource.RLIM_INFINITY else max(lowered, 1 << 20))
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_serve_says_what_open_file_limit_it_got(start_live: StartLive) -> None:
    server = start_live()
    assert server.log_path is not None and "open files: up to" in server.log_path.read_text()
