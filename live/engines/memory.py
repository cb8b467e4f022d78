"""The embedded engine: one process, state in memory, every accepted event in a local SQLite file.

An event is committed to SQLite (WAL journal) before the command is acknowledged, so stopping or
killing ``live serve`` loses nothing that was accepted. On start a room is rebuilt from its last
snapshot plus the events after it, with the same epoch, so clients resume across a restart.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from ..domain.events import Event
from ..domain.room import RoomState
from .base import HISTORY_SIZE, Engine, Replica, StoredEvent, new_epoch

SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (room_id TEXT PRIMARY KEY, epoch TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    room_id TEXT NOT NULL, offset INTEGER NOT NULL, payload TEXT NOT NULL,
    PRIMARY KEY (room_id, offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (room_id TEXT PRIMARY KEY, offset INTEGER NOT NULL, payload TEXT NOT NULL);
"""


class MemoryEngine(Engine):
    name = "embedded"

    def __init__(self, initial_states: dict[str, RoomState], database: Path) -> None:
        super().__init__(initial_states)
        self._path = database
        self._db: sqlite3.Connection | None = None

    async def start(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable across a process crash; fsync at checkpoints
        self._db.executescript(SCHEMA)
        for room_id, initial in self._initial_states.items():
            self._load(room_id, initial)

    def _load(self, room_id: str, initial: RoomState) -> Replica:
        db = self._connection
        row = db.execute("SELECT epoch FROM rooms WHERE room_id = ?", (room_id,)).fetchone()
        if row is None:
            epoch = new_epoch()
            db.execute("INSERT INTO rooms (room_id, epoch) VALUES (?, ?)", (room_id, epoch))
        else:
            epoch = row[0]
        replica = self._replicas[room_id] = Replica(state=initial, epoch=epoch)
        snapshot = db.execute("SELECT offset, payload FROM snapshots WHERE room_id = ?", (room_id,)).fetchone()
        if snapshot is not None:
            replica.state = RoomState.from_snapshot(json.loads(snapshot[1]))
            replica.offset = replica.snapshot_offset = snapshot[0]
        start = max(0, replica.offset - HISTORY_SIZE)
        rows = db.execute(
            "SELECT payload FROM events WHERE room_id = ? AND offset > ? ORDER BY offset", (room_id, start)
        ).fetchall()
        for (payload,) in rows:
            stored = StoredEvent.from_payload(payload)
            if stored.offset <= replica.offset:
                replica.history.append(stored)  # already in the snapshot: history only
            else:
                self._advance(room_id, [stored])
        return replica

    @property
    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the engine is not started")
        return self._db

    async def close(self) -> None:
        await self._stop_committers()
        if self._db is not None:
            self._db.close()
            self._db = None

    async def health(self) -> dict[str, Any]:
        return {"engine": self.name, "database": str(self._path), "ok": self._db is not None}

    async def _append(self, room_id: str, replica: Replica, events: list[Event]) -> list[StoredEvent]:
        stored = [StoredEvent(replica.epoch, replica.offset + i, event) for i, event in enumerate(events, start=1)]
        db = self._connection
        with db:  # one transaction: all of the command's events or none
            db.execute("BEGIN")
            db.executemany(
                "INSERT INTO events (room_id, offset, payload) VALUES (?, ?, ?)",
                [(room_id, s.offset, s.payload) for s in stored],
            )
        return stored

    async def _catch_up(self, room_id: str) -> None:
        return  # one process owns the file: its replica is never stale

    async def _save_snapshot(self, room_id: str, replica: Replica, snapshot: dict[str, Any]) -> None:
        db = self._connection
        with db:
            db.execute("BEGIN")
            db.execute(
                "INSERT OR REPLACE INTO snapshots (room_id, offset, payload) VALUES (?, ?, ?)",
                (room_id, replica.offset, json.dumps(snapshot)),
            )
            db.execute("DELETE FROM events WHERE room_id = ? AND offset <= ?", (room_id, replica.offset - HISTORY_SIZE))
