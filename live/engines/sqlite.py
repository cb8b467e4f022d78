"""The embedded engine's storage: one process, every accepted event in a local SQLite file.

An event is committed to SQLite (WAL journal) before the command is acknowledged, so stopping or
killing ``live serve`` loses nothing that was accepted. A room keeps its epoch across restarts
(``rooms`` table), so clients resume across a restart.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from .storage import HISTORY_SIZE, Follower, Storage, StoredEvent, StoredRoom, new_epoch

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

    @property
    def location(self) -> str:
        return str(self.path)

    async def open(self) -> None:
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
        if self._db is not None:
            self._db.close()
            self._db = None

    async def health(self) -> dict[str, Any]:
        return {"engine": self.name, "ok": self._db is not None}  # no path: /healthz is public

    async def load(self, room_id: str) -> StoredRoom:
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
        rows = [(room_id, stored.offset, stored.payload) for stored in events]
        db = self._connection
        with db:  # one transaction: all of the batch's events or none
            db.execute("BEGIN")
            db.executemany("INSERT INTO events (room_id, offset, payload) VALUES (?, ?, ?)", rows)

    async def read_after(self, room_id: str, offset: int, limit: int) -> list[StoredEvent]:
        rows = self._connection.execute(
            "SELECT payload FROM events WHERE room_id = ? AND offset > ? ORDER BY offset LIMIT ?",
            (room_id, offset, limit),
        ).fetchall()
        return [StoredEvent.from_payload(payload) for (payload,) in rows]

    async def save_snapshot(self, room_id: str, epoch: str, offset: int, snapshot: dict[str, Any]) -> bool:
        db = self._connection
        with db:
            db.execute("BEGIN")
            db.execute(
                "INSERT OR REPLACE INTO snapshots (room_id, offset, payload) VALUES (?, ?, ?)",
                (room_id, offset, json.dumps(snapshot)),
            )
            db.execute("DELETE FROM events WHERE room_id = ? AND offset <= ?", (room_id, offset - self.history_size))
        return True

    async def follow(self, follower: Follower) -> None:
        return  # nobody else writes this file

    async def revoke_login(self, login_id: str, lifetime: float) -> None:
        now = time.time()
        db = self._connection
        with db:
            db.execute("BEGIN")
            db.execute("DELETE FROM revoked_logins WHERE expires_at < ?", (now,))
            db.execute("INSERT OR REPLACE INTO revoked_logins VALUES (?, ?)", (login_id, now + lifetime))

    async def is_login_revoked(self, login_id: str) -> bool:
        row = self._connection.execute("SELECT 1 FROM revoked_logins WHERE login_id = ?", (login_id,)).fetchone()
        return row is not None
