"""The docker-compose topology with local processes: one Redis, two ``live serve`` replicas and a
reverse proxy in front that spreads connections over both (round robin, as nginx's upstream
does). Viewers and moderators only ever talk to the proxy's address."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Callable, Iterator

import pytest

from .conftest import MODERATOR_KEY, LiveServer, RedisServer, free_port
from .livetools import Person

StartLive = Callable[..., LiveServer]


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(Exception):
        writer.close()


@contextlib.contextmanager
def round_robin_proxy(backends: list[int]) -> Iterator[tuple[int, list[int]]]:
    """A TCP proxy in its own thread: each new connection goes to the next backend, and
    WebSockets pass through as they would through nginx."""
    turn = itertools.cycle(backends)
    chosen: list[int] = []
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        backend = next(turn)
        chosen.append(backend)
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", backend)
        await asyncio.gather(_pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer))

    stop = asyncio.Event()
    handlers: set[asyncio.Task[None]] = set()

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port)
        ready.set()
        await stop.wait()
        server.close()
        for task in asyncio.all_tasks() - {asyncio.current_task()}:
            handlers.add(task)  # type: ignore[arg-type]
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)

    def run() -> None:
        loop.run_until_complete(serve())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(5)
    try:
        yield port, chosen
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(5)


class ProxiedServer(LiveServer):
    """What a client sees: one address, whichever replica answers."""


@pytest.mark.parametrize("replicas", [2])
async def test_two_replicas_behind_a_proxy_serve_one_event(
    start_live: StartLive, redis_server: RedisServer, replicas: int
) -> None:
    own = [start_live(redis_url=redis_server.url) for _ in range(replicas)]
    with round_robin_proxy([server.port for server in own]) as (port, chosen):
        front = ProxiedServer(port=port, data_dir=own[0].data_dir)
        # Each Person's connections land on alternating replicas; the cookie works on both
        # because they share LIVE_SECRET, as the compose file's .env makes them.
        moderator, viewers = Person(front), [Person(front) for _ in range(3)]
        moderator.login(MODERATOR_KEY)
        streams = [await viewer.connect("nev-development") for viewer in viewers]
        for stream in streams:
            assert (await stream.receive())["type"] == "snapshot"
        asked = viewers[0].ok("nev-development", {"type": "ask_question", "text": "Through the proxy?"})["question"]
        moderator.ok("nev-development", {"type": "moderate_question", "question_id": asked["id"], "action": "approve"})
        for stream in streams:
            messages = await stream.receive_until("question", timeout=5)
            assert messages[-1]["question"]["text"] == "Through the proxy?"
            await stream.close()
        assert set(chosen) == {server.port for server in own}  # both replicas really served
