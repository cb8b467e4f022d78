"""The embedded engine writes on a thread of its own (live/engines/sqlite.py): while one batch is
being written the event loop goes on, commands arriving meanwhile join the next batch, and nobody
is answered before their write has returned."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from live.domain.commands import parse_command
from live.domain.roles import Actor, Role
from live.domain.room import ModerationMode, RoomSettings, RoomState
from live.engines.engine import Engine
from live.engines.sqlite import SqliteStorage

from .livetools import until

MODERATOR = Actor("moderator", None, frozenset({(Role.MODERATOR, "*")}))


async def test_commands_that_arrive_during_a_write_are_stored_together_after_it(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "live.sqlite3")
    engine = Engine(storage, {"main": RoomState("main", RoomSettings(moderation=ModerationMode.POST))})
    await engine.start()
    written: list[int] = []
    gate = threading.Event()
    write = storage._append

    def slow_append(rows: list[tuple[str, int, str]]) -> None:  # on the storage's thread
        gate.wait(timeout=10)
        write(rows)
        written.append(len(rows))

    storage._append = slow_append  # type: ignore[method-assign]
    try:

        def ask(text: str) -> asyncio.Task[object]:
            command = parse_command({"type": "ask_question", "text": text})
            return asyncio.create_task(engine.execute("main", command, MODERATOR, 0.0))

        first = ask("the first, written alone")
        replica = engine._replicas["main"]
        await until(lambda: replica.writing_since is not None, what="the first command to be sent to storage")
        later = [ask(f"question {n}") for n in range(20)]  # the loop runs while the first is written
        await until(lambda: len(replica.waiting) == 20, what="the others to queue")
        assert not first.done() and written == []  # not answered before its write returned
        gate.set()
        results = await asyncio.gather(first, *later)
        assert written == [1, 20]  # the twenty that came during the write: one transaction
        assert [len(result.events) for result in results] == [1] * 21  # type: ignore[attr-defined]
        stored = await storage.read_after("main", 0, 100)
        assert [event.offset for event in stored] == list(range(1, 22))  # in order, every one durable
    finally:
        gate.set()
        await engine.close()
