"""The embedded engine's storage: one process, every accepted event in a local SQLite file.

An event is committed to SQLite (WAL journal) before the command is acknowledged, so stopping or
killing ``live serve`` loses nothing that was accepted. A room keeps its epoch across restarts
(``rooms`` table), so clients resume across a restart.

Every statement runs on one thread of its own, in the order it was asked for (``_run``), and the
caller awaits it: while a batch of votes is being written, the event loop goes on receiving the
next ones, which join the next batch (group commit, engine.py). When the write ran on the loop,
nothing else happened meanwhile, so a storm's batches stayed small and each paid its own
transaction (docs/CAPACITY.md, the vote storm). A command is still answered only once its write
has returned, committed; one thread means one transaction at a time on the one connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from .storage import HISTORY_SIZE, Follower, Storage, StoredEvent, StoredRoom, new_epoch

Result = TypeVar("Result")

SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (room_id TEXT PRIMARY KEY, epoch TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    room_id TEXT NOT NULL, offset INTEGER NOT NULL, payload TEXT NOT NULL,
    PRIMARY KEY (room_id, offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (room_id TEXT PRIMARY KEY, offset INTEGER NOT NULL, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS revoked_logins (login_id TEXT PRIMARY KEY, expires_at REAL NOT NULL);
"""
FILE_MODE = 0o077  # umask while SQLite creates the database and its -wal/-shm files: owner only


class SqliteStorage(Storage):
    name = "embedded"

    def __init__(self, database: Path, history_size: int = HISTORY_SIZE) -> None:
        super().__init__(history_size)
        self.path = database
        self._db: sqlite3.Connection | None = None
        self._thread: ThreadPoolExecutor | None = None  # the one thread that runs the statements

    async def _run(self, work: Callable[..., Result], *args: Any) -> Result:
        """``work(*args)`` on the storage's thread, after everything asked for before it."""
        if self._thread is None:
            raise RuntimeError("the storage is not open")
        return await asyncio.get_running_loop().run_in_executor(self._thread, work, *args)

    @property
    def location(self) -> str:
        return str(self.path)

    async def open(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        await self._run(self._open)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        previous = os.umask(FILE_MODE)  # questions and names are not for other users of the machine
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")  # creates the -wal and -shm files
            self._db.execute("PRAGMA synchronous=NORMAL")  # durable across a process crash; fsync at checkpoints
            self._db.executescript(SCHEMA)
        finally:
            os.umask(previous)
        for suffix in ("", "-wal", "-shm"):  # files made by an older version, before the umask
            with contextlib.suppress(FileNotFoundError):
                os.chmod(f"{self.path}{suffix}", 0o600)

    @property
    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the storage is not open")
        return self._db

    async def close(self) -> None:
        if self._thread is None:
            return
        await self._run(self._close)  # after any write still running: it completes first
        self._thread.shutdown()
        self._thread = None

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    async def health(self) -> dict[str, Any]:
        return {"engine": self.name, "ok": self._db is not None}  # no path: /healthz is public

    async def load(self, room_id: str) -> StoredRoom:
        return await self._run(self._load, room_id)

    def _load(self, room_id: str) -> StoredRoom:
        db = self._connection
        row = db.execute("SELECT epoch FROM rooms WHERE room_id = ?", (room_id,)).fetchone()
        if row is None:
            epoch = new_epoch()
            db.execute("INSERT INTO rooms (room_id, epoch) VALUES (?, ?)", (room_id, epoch))
        else:
            epoch = row[0]
        snapshot = db.execute("SELECT offset, payload FROM snapshots WHERE room_id = ?", (room_id,)).fetchone()
        if snapshot is None:
            return StoredRoom(epoch)
        return StoredRoom(epoch, snapshot[0], json.loads(snapshot[1]))

    async def append(self, room_id: str, events: list[StoredEvent]) -> None:
        # One process owns the file, so its replica is never stale: no offset to check.
        await self._run(self._append, [(room_id, stored.offset, stored.payload) for stored in events])

    def _append(self, rows: list[tuple[str, int, str]]) -> None:
        db = self._connection
        with db:  # one transaction: all of the batch's events or none
            db.execute("BEGIN")
            db.executemany("INSERT INTO events (room_id, offset, payload) VALUES (?, ?, ?)", rows)

    async def read_after(self, room_id: str, offset: int, limit: int) -> list[StoredEvent]:
        rows = await self._run(self._read_after, room_id, offset, limit)
        return [StoredEvent.from_payload(payload) for (payload,) in rows]

    def _read_after(self, room_id: str, offset: int, limit: int) -> list[tuple[str]]:
        return self._connection.execute(
            "SELECT payload FROM events WHERE room_id = ? AND offset > ? ORDER BY offset LIMIT ?",
            (room_id, offset, limit),
        ).fetchall()

    async def save_snapshot(self, room_id: str, epoch: str, offset: int, snapshot: dict[str, Any]) -> None:
        await self._run(self._save_snapshot, room_id, offset, json.dumps(snapshot))  # the state as it is now

    def _save_snapshot(self, room_id: str, offset: int, payload: str) -> None:
        db = self._connection
        with db:
            db.execute("BEGIN")
            db.execute(
                "INSERT OR REPLACE INTO snapshots (room_id, offset, payload) VALUES (?, ?, ?)",
                (room_id, offset, payload),
            )
            db.execute("DELETE FROM events WHERE room_id = ? AND offset <= ?", (room_id, offset - self.history_size))

    async def follow(self, follower: Follower) -> None:
        return  # nobody else writes this file

    async def revoke_login(self, login_id: str, lifetime: float) -> None:
        await self._run(self._revoke_login, login_id, lifetime)

    def _revoke_login(self, login_id: str, lifetime: float) -> None:
        now = time.time()
        db = self._connection
        with db:
            db.execute("BEGIN")
            db.execute("DELETE FROM revoked_logins WHERE expires_at < ?", (now,))
            db.execute("INSERT OR REPLACE INTO revoked_logins VALUES (?, ?)", (login_id, now + lifetime))

    async def is_login_revoked(self, login_id: str) -> bool:
        return await self._run(self._is_login_revoked, login_id)

    def _is_login_revoked(self, login_id: str) -> bool:
        row = self._connection.execute("SELECT 1 FROM revoked_logins WHERE login_id = ?", (login_id,)).fetchone()
        return row is not None
