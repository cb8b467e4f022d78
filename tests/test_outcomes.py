"""No unknown outcomes: every command is answered truly and quickly, and a retry is safe (issue 12).

A proxy between the app and Redis that passes requests but drops Redis's replies makes a write
whose fate the app cannot know; freezing a process by PID makes the rest. docs/API.md says what
each answer means about whether the command was applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from live.domain.commands import parse_command
from live.domain.roles import Actor
from live.domain.room import RoomSettings, RoomState
from live.engines.engine import Engine
from live.engines.redis import RedisStorage
from live.engines.storage import OutcomeUnknown, StorageUnavailable

from .conftest import MODERATOR_KEY, LiveServer, RedisServer
from .livetools import Person

VIEWER = Actor("viewer-1", "Ann")
ASK = {"type": "ask_question", "text": "Was this asked once?"}


class ReplyDroppingProxy:
    """TCP on loopback, between the app and Redis, in a thread of its own (so that a test may
    block, e.g. while ``live serve`` starts): passes every request on, and passes Redis's replies
    back unless ``dropping``. A dropped reply is what a frozen Redis, or a lost packet, looks like
    from the app, except that here the command surely ran."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.dropping = False
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reply-dropping-proxy", daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self) -> ReplyDroppingProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._connection, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _connection(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            redis_reader, redis_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_writer.close()
            return

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter, drop: Callable[[], bool]) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    if not drop():
                        sink.write(data)
                        await sink.drain()
            sink.close()

        try:
            await asyncio.gather(
                pipe(client_reader, redis_writer, lambda: False),
                pipe(redis_reader, client_writer, lambda: self.dropping),
            )
        except asyncio.CancelledError:  # the proxy is stopping: end quietly (3.11 logs a cancelled handler)
            client_writer.close()
            redis_writer.close()


@pytest.fixture
def proxy(redis_server: RedisServer) -> Iterator[ReplyDroppingProxy]:
    with ReplyDroppingProxy(redis_server.port) as running:
        yield running


async def until(condition: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition was not met in time"
        await asyncio.sleep(0.05)


@pytest.fixture
async def engine_via_proxy(
    proxy: ReplyDroppingProxy, redis_server: RedisServer, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Engine, aioredis.Redis]]:
    storage = RedisStorage(proxy.url, f"outcomes-{request.node.name}", socket_timeout=0.5)
    engine = Engine(storage, {"main": RoomState("main", RoomSettings())}, deadline=1.0)
    await engine.start()
    direct = aioredis.Redis.from_url(redis_server.url, decode_responses=True)
    yield engine, direct
    proxy.dropping = False
    await engine.close()
    await direct.aclose()


async def ask(engine: Engine, key: str | None = None, text: str = ASK["text"]) -> Any:
    return await engine.execute("main", parse_command({**ASK, "text": text}), VIEWER, time.time(), key=key)


async def test_a_write_whose_reply_is_lost_is_never_called_not_applied(
    engine_via_proxy: tuple[Engine, aioredis.Redis], proxy: ReplyDroppingProxy
) -> None:
    """The 503 that lied: the script ran, only its reply was lost. The caller hears at its deadline
    that the outcome is unknown; the room refuses new commands at once (certain: not applied) and
    says so in its health; when Redis answers again the write is known to have been applied, once,
    and a retry with the same key gets the first answer."""
    engine, direct = engine_via_proxy
    await ask(engine, text="before the fault")
    storage = engine.storage
    assert isinstance(storage, RedisStorage)
    proxy.dropping = True
    started = time.monotonic()
    with pytest.raises(OutcomeUnknown):
        await ask(engine, key="viewer-1/ask_question/k1")
    assert time.monotonic() - started < 2.0  # at the 1 s deadline, not after 3 timeouts of 10 s
    stored = await direct.xrange(storage._key("main", "events"))
    assert len(stored) == 2 and "viewer-1/ask_question/k1" in stored[-1][1]["p"]  # it was applied

    started = time.monotonic()
    with pytest.raises(StorageUnavailable, match="not applied"):
        await ask(engine, key="viewer-1/ask_question/k2", text="while Redis is silent")
    assert time.monotonic() - started < 0.2
    health = await engine.health()
    assert health["ok"] is False and health["rooms_not_accepting_writes"] == ["main"]

    proxy.dropping = False
    await until(lambda: engine.position("main").offset == 2)
    retried = await ask(engine, key="viewer-1/ask_question/k1")
    assert retried.replayed and retried.events[0].offset == 2
    assert engine.position("main").offset == 2 and len(engine.state("main").questions) == 2
    assert len(await direct.xrange(storage._key("main", "events"))) == 2
    assert (await engine.health())["ok"] is True


async def test_queued_commands_past_the_deadline_are_withdrawn(
    engine_via_proxy: tuple[Engine, aioredis.Redis], proxy: ReplyDroppingProxy
) -> None:
    """Commands waiting behind a write Redis does not answer were never sent: at their deadline
    they are withdrawn and answered "unavailable", which is certain; only the one sent is unknown."""
    engine, _ = engine_via_proxy
    proxy.dropping = True
    sent = asyncio.create_task(ask(engine, key="viewer-1/ask_question/q0", text="queued 0"))
    await until(lambda: engine._replicas["main"].writing_since is not None)  # its batch is in flight
    queued = [ask(engine, key=f"viewer-1/ask_question/q{n}", text=f"queued {n}") for n in range(1, 4)]
    outcomes = await asyncio.gather(sent, *queued, return_exceptions=True)
    assert [type(outcome).__name__ for outcome in outcomes] == ["OutcomeUnknown"] + ["StorageUnavailable"] * 3
    proxy.dropping = False
    await until(lambda: engine.position("main").offset == 1)
    await ask(engine, text="after")  # decided after anything still queued: the withdrawn ones were not
    assert [q.text for q in engine.state("main").questions.values()] == ["queued 0", "after"]


async def test_a_refused_connection_is_certainly_not_applied(own_redis: RedisServer) -> None:
    engine = Engine(RedisStorage(own_redis.url, "refused"), {"main": RoomState("main", RoomSettings())}, deadline=1.0)
    await engine.start()
    try:
        own_redis.stop()
        storage = engine.storage
        assert isinstance(storage, RedisStorage)
        await storage._redis.connection_pool.disconnect()  # as the follower does when Redis goes away
        started = time.monotonic()
        with pytest.raises(StorageUnavailable, match="not applied"):
            await ask(engine, key="viewer-1/ask_question/k1")
        assert time.monotonic() - started < 0.5
        assert engine.rooms_not_answering() == []  # nothing is in flight: the room is not stalled
    finally:
        await engine.close()


# -- over HTTP and the stream: the key, its scope, and the answers --------------------------------
def command(person: Person, room: str, body: dict[str, Any], key: str | None) -> httpx.Response:
    headers = {} if key is None else {"Idempotency-Key": key}
    return person.http.post(f"/api/rooms/{room}/commands", json=body, headers=headers)


def test_a_key_over_http_is_answered_with_the_first_reply_across_restarts(
    start_live: Callable[..., LiveServer], tmp_path: Path
) -> None:
    server = start_live(data_dir=tmp_path / "data")
    person, other = Person(server), Person(server)
    first = command(person, "main", ASK, "b6f1c3e0-key")
    assert first.status_code == 200, first.text
    again = command(person, "main", ASK, "b6f1c3e0-key")
    assert again.json() == first.json()  # the same question id, the same offset
    # the same key from another person is their own command
    theirs = command(other, "main", ASK, "b6f1c3e0-key")
    assert theirs.json()["question"]["id"] != first.json()["question"]["id"]
    for bad in ("", "x" * 65, "spaces are not allowed", "a/b"):
        refused = command(person, "main", ASK, bad)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid", bad
    server.stop()
    server.start()  # the embedded engine, restarted on the same file
    after = command(person, "main", ASK, "b6f1c3e0-key")
    assert after.json() == first.json()
    room = person.http.get("/api/rooms/main?as=viewer").json()
    assert room["live"]["offset"] == theirs.json()["offset"]  # nothing applied since


def test_a_retried_move_moves_the_question_once(start_live: Callable[..., LiveServer]) -> None:
    """Both halves of a move carry its key: the retry answers with the same copy in the other room."""
    server = start_live()
    moderator = Person(server)
    moderator.login(MODERATOR_KEY)
    asked = command(moderator, "main", {**ASK, "text": "Better asked in the other room?"}, None).json()
    move = {"type": "move_question", "question_id": asked["question"]["id"], "to_room": "industry-chain"}
    first = command(moderator, "main", move, "move-key-1")
    again = command(moderator, "main", move, "move-key-1")
    assert first.status_code == 200, first.text
    assert again.json() == first.json() and first.json()["moved_to"]["question_id"]
    there = moderator.http.get("/api/rooms/industry-chain?as=moderator").json()["live"]["questions"]
    assert [q["id"] for q in there if q["text"] == "Better asked in the other room?"] == [
        first.json()["moved_to"]["question_id"]
    ]


async def test_a_key_on_the_stream_is_answered_with_the_first_ack(start_live: Callable[..., LiveServer]) -> None:
    server = start_live()
    person = Person(server)
    stream = await person.connect("main")
    await stream.receive_until("snapshot")
    acks = []
    for ref in ("a", "b"):
        await stream.send({"type": "command", "ref": ref, "idempotency_key": "stream-key-1", "command": ASK})
        acks.append(next(m for m in await stream.receive_until("ack") if m["type"] == "ack"))
    assert acks[0]["result"] == acks[1]["result"] and acks[1]["ref"] == "b"
    http = command(person, "main", ASK, "stream-key-1")  # the same person's key, whichever transport
    assert http.json() == acks[0]["result"]
    await stream.send({"type": "command", "ref": "c", "idempotency_key": 42, "command": ASK})
    error = next(m for m in await stream.receive_until("error") if m["type"] == "error")
    assert error["code"] == "invalid" and error["ref"] == "c"
    await stream.close()


@pytest.mark.slow
async def test_http_answers_unknown_outcome_and_healthz_names_the_room(
    start_live: Callable[..., LiveServer], proxy: ReplyDroppingProxy
) -> None:
    server = start_live(redis_url=proxy.url, extra=("--command-deadline", "1"))
    person = Person(server)
    asked = {**ASK, "text": f"Asked once while Redis was silent? {uuid.uuid4().hex[:8]}"}  # Redis is shared
    before = command(person, "main", {**ASK, "text": "before"}, None)
    assert before.status_code == 200
    proxy.dropping = True
    started = time.monotonic()
    unknown = command(person, "main", asked, "http-key-1")
    assert unknown.status_code == 504 and unknown.json()["error"]["code"] == "unknown_outcome"
    assert time.monotonic() - started < 3
    refused = command(person, "main", {**ASK, "text": "while silent"}, "http-key-2")
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "unavailable"
    health = httpx.get(f"{server.url}/healthz", timeout=10)
    assert health.status_code == 503 and health.json()["rooms_not_accepting_writes"] == ["main"]
    proxy.dropping = False
    deadline = time.monotonic() + 20
    while (retried := command(person, "main", asked, "http-key-1")).status_code != 200:
        assert time.monotonic() < deadline, retried.text
        await asyncio.sleep(0.2)
    room = person.http.get("/api/rooms/main?as=viewer").json()
    assert retried.json()["offset"] == before.json()["offset"] + 1 == room["live"]["offset"]
    mine = [q for q in room["live"]["questions"] if q["text"] == asked["text"]]
    assert [q["id"] for q in mine] == [retried.json()["question"]["id"]]


def answer(future: Any) -> int | str:
    try:
        return int(future.result().status_code)
    except httpx.HTTPError as error:  # e.g. ReadError: connection reset by peer
        return repr(error)


@pytest.mark.slow
def test_commands_sent_to_a_paused_process_are_answered(start_live: Callable[..., LiveServer]) -> None:
    """Item 4 of the issue: a process paused (SIGSTOP) past uvicorn's keep-alive timeout of 5 s
    reset the idle connections on which requests arrived meanwhile, unanswered. Browsers keep
    idle connections longer than that (keepalive_expiry here plays one)."""
    server = start_live()
    assert server.process is not None
    browsers = [
        httpx.Client(base_url=server.url, timeout=30, limits=httpx.Limits(keepalive_expiry=120)) for _ in range(6)
    ]
    try:
        for n, browser in enumerate(browsers):
            browser.get("/")
            assert browser.post("/api/rooms/main/commands", json={**ASK, "text": f"before {n}"}).status_code == 200
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            time.sleep(7)  # the pause itself, past the old 5 s keep-alive timeout
            with ThreadPoolExecutor(len(browsers)) as pool:
                sent = [
                    pool.submit(b.post, "/api/rooms/main/commands", json={**ASK, "text": f"during {n}"})
                    for n, b in enumerate(browsers)
                ]
                time.sleep(1)  # the requests wait in the paused process's sockets
                os.kill(server.process.pid, signal.SIGCONT)
                answers = [answer(future) for future in sent]
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        assert answers == [200] * len(browsers)
    finally:
        for browser in browsers:
            browser.close()
