"""Small clients for tests that talk to a real ``live serve``: HTTP (httpx) and the live stream
(websockets), each with its own session cookie like a separate browser; and ``until``, the one
way tests wait for something to happen."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import websockets

from .conftest import LiveServer, free_port


async def until(
    condition: Callable[[], bool | Awaitable[bool]], timeout: float = 10, what: str = "", every: float = 0.05
) -> float:
    """Wait for ``condition`` to hold, checking it every ``every`` seconds, for ``timeout`` seconds
    at most (then fail, naming ``what``); returns the seconds it took. Instead of a fixed sleep
    followed by a count: as fast as the system allows, and as patient as a slow machine needs."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        held = condition()
        if inspect.isawaitable(held):
            held = await held
        if held:
            return time.monotonic() - started
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or 'the condition'}")
        await asyncio.sleep(every)


@contextlib.asynccontextmanager
async def serve_with_frames(app: Any) -> AsyncIterator[int]:
    """A tiny ASGI app served by uvicorn on loopback, in this event loop, with the protocol that
    ``live serve`` uses (direct frame writes); yields the port."""
    import uvicorn

    from live.web.frames import LiveWebSocketProtocol

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, ws=LiveWebSocketProtocol, log_level="warning",
                            ws_per_message_deflate=False, lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await until(lambda: server.started or task.done(), timeout=10, what="uvicorn to start", every=0.01)
    if not server.started:
        await task  # raises what stopped it, if anything did
        raise RuntimeError("uvicorn exited before it started")
    try:
        yield port
    finally:
        server.should_exit = True
        await task


class Person:
    """One browser: a cookie jar, the JSON API, and live-stream connections."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=10)
        self.http.get("/")  # the first page gives the anonymous identity

    def login(self, key: str) -> None:
        response = self.http.post("/api/login", json={"key": key})
        assert response.status_code == 200, response.text

    def command(self, room: str, command: dict[str, Any]) -> httpx.Response:
        return self.http.post(f"/api/rooms/{room}/commands", json=command)

    def ok(self, room: str, command: dict[str, Any]) -> dict[str, Any]:
        response = self.command(room, command)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    @property
    def cookie(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())

    async def connect(
        self, room: str, role: str = "viewer", epoch: str | None = None, offset: int | None = None
    ) -> Stream:
        url = f"{self.server.ws_url}/ws/rooms/{room}?as={role}"
        if epoch is not None:
            url += f"&epoch={epoch}&offset={offset}"
        socket = await websockets.connect(url, additional_headers={"Cookie": self.cookie}, max_size=2**20)
        return Stream(socket)

    def close(self) -> None:
        self.http.close()


class Stream:
    def __init__(self, socket: websockets.ClientConnection) -> None:
        self.socket = socket
        self.position: tuple[str, int] | None = None

    async def receive(self, timeout: float = 5) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
        if "offset" in message and message.get("epoch"):
            self.position = (message["epoch"], message["offset"])
        return message

    async def receive_until(self, kind: str, timeout: float = 5) -> list[dict[str, Any]]:
        """Every message up to and including the first of type ``kind``."""
        seen = []
        while True:
            message = await self.receive(timeout)
            seen.append(message)
            if message["type"] == kind:
                return seen

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.socket.send(message if isinstance(message, str) else json.dumps(message))

    async def quiet(self, seconds: float = 0.4) -> list[dict[str, Any]]:
        """Whatever arrives within ``seconds``."""
        seen = []
        try:
            while True:
                seen.append(await self.receive(seconds))
        except TimeoutError:
            return seen

    async def close(self) -> None:
        await self.socket.close()
