"""Audience samples: how many people watched each room, taken every ``SAMPLE_INTERVAL`` seconds
and kept for the event's report (live/report.py).

A room's log holds what people did, not how many watched: connections and video viewers are
runtime figures that vanish with the process. ``live/sampler.py`` counts them periodically and
stores them here, beside the engine: a small SQLite file next to the embedded engine's
(``DATA_DIR/EVENT-samples.sqlite3``), or a sorted set per room in the same Redis. Each sample also
records the room's log position at that moment (epoch and offset), which dates the events between
two samples (events carry no time of their own): the report counts an event at the first sample
that saw it, of the same epoch: a room whose log was started again (a new epoch, offsets from 1)
is not dated by the old log's samples.

Each process samples what it serves (``source``: ``ServeSettings.sample_source``, its advertised URL
or its host and port, stable across restarts); with several processes on one Redis the report adds
their samples up per interval. Bounded: at most
``MAX_SAMPLES`` per room and source are kept (older ones are dropped as new ones come).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

SAMPLE_INTERVAL = 30.0  # seconds between two samples of a room (settings: --sample-interval)
MAX_SAMPLES = 40_320  # per room and process: two weeks at 30 s (about 3 MB per room in SQLite)


@dataclass(frozen=True)
class Sample:
    """A room's audience at one moment, as one process counted it."""

    room_id: str
    at: float  # seconds since the epoch
    offset: int  # the room's last log offset then: dates the events before it
    connections: int  # live-stream connections (open pages: viewers, screens, consoles)
    webrtc: int  # WebRTC (WHEP) video viewers
    hls: int  # HLS players keeping up (segments served in the interval x segment length / interval)
    source: str = ""  # the process that counted it
    epoch: str = ""  # the room's log epoch then ("" for samples stored before epochs were kept)


class SampleStore(ABC):
    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def add(self, samples: list[Sample]) -> None:
        """Keep these samples (a room's oldest beyond ``MAX_SAMPLES`` go)."""

    @abstractmethod
    async def read(self, room_id: str, since: float, until: float) -> list[Sample]:
        """The room's samples taken in [since, until], oldest first."""


class SqliteSamples(SampleStore):
    """A file of its own beside the embedded engine's: samples never contend with the room's log."""

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS samples (
        room_id TEXT NOT NULL, source TEXT NOT NULL, at REAL NOT NULL, offset INTEGER NOT NULL,
        connections INTEGER NOT NULL, webrtc INTEGER NOT NULL, hls INTEGER NOT NULL,
        epoch TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (room_id, at, source)
    ) WITHOUT ROWID;
    """
    COLUMNS = "room_id, at, offset, connections, webrtc, hls, source, epoch"  # Sample's fields, in order

    def __init__(self, path: Path, max_samples: int = MAX_SAMPLES) -> None:
        self.path = path
        self.max_samples = max_samples
        self._db: sqlite3.Connection | None = None

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        previous = os.umask(0o077)  # like the engine's file: for its owner only
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(self.SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(samples)")}
            if "epoch" not in columns:  # a file from before epochs were kept: its samples keep ""
                self._db.execute("ALTER TABLE samples ADD COLUMN epoch TEXT NOT NULL DEFAULT ''")
        finally:
            os.umask(previous)

    async def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the samples store is not open")
        return self._db

    async def add(self, samples: list[Sample]) -> None:
        db = self._connection
        rows = [(s.room_id, s.at, s.offset, s.connections, s.webrtc, s.hls, s.source, s.epoch) for s in samples]
        with db:
            db.execute("BEGIN")
            db.executemany(f"INSERT OR REPLACE INTO samples ({self.COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            for room_id, source in {(s.room_id, s.source) for s in samples}:
                db.execute(
                    "DELETE FROM samples WHERE room_id = ? AND source = ? AND at <= (SELECT at FROM samples"
                    " WHERE room_id = ? AND source = ? ORDER BY at DESC LIMIT 1 OFFSET ?)",
                    (room_id, source, room_id, source, self.max_samples),
                )

    async def read(self, room_id: str, since: float, until: float) -> list[Sample]:
        rows = self._connection.execute(
            f"SELECT {self.COLUMNS} FROM samples WHERE room_id = ? AND at BETWEEN ? AND ? ORDER BY at",
            (room_id, since, until),
        ).fetchall()
        return [Sample(*row) for row in rows]


class RedisSamples(SampleStore):
    """``live:EVENT:ROOM:samples:SOURCE``, a sorted set scored by time whose members are the
    samples' JSON; ``live:EVENT:ROOM:sample_sources`` lists the sources. A failed write is
    logged by the sampler and skipped: a missing sample is a gap in a chart, never an outage."""

    def __init__(self, url: str, event_slug: str, max_samples: int = MAX_SAMPLES) -> None:
        self._url = url
        self._prefix = f"live:{event_slug}"
        self.max_samples = max_samples
        self._redis: aioredis.Redis = aioredis.Redis.from_url(url, decode_responses=True, socket_timeout=5)

    def _key(self, room_id: str, source: str) -> str:
        return f"{self._prefix}:{room_id}:samples:{source}"

    def _sources(self, room_id: str) -> str:
        return f"{self._prefix}:{room_id}:sample_sources"

    async def open(self) -> None:
        return

    async def close(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self._redis.aclose()

    async def add(self, samples: list[Sample]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for sample in samples:
                key = self._key(sample.room_id, sample.source)
                pipe.zadd(key, {json.dumps(asdict(sample), separators=(",", ":")): sample.at})
                pipe.zremrangebyrank(key, 0, -self.max_samples - 1)
                pipe.sadd(self._sources(sample.room_id), sample.source)
            await pipe.execute()

    async def read(self, room_id: str, since: float, until: float) -> list[Sample]:
        sources: set[str] = await self._redis.smembers(self._sources(room_id))  # type: ignore[assignment]
        found: list[list[str]] = await asyncio.gather(
            *(self._redis.zrangebyscore(self._key(room_id, source), since, until) for source in sorted(sources))
        )  # type: ignore[assignment]
        samples = [_sample(json.loads(member)) for members in found for member in members]
        return sorted(samples, key=lambda sample: (sample.at, sample.source))


_FIELDS = frozenset(field.name for field in fields(Sample))


def _sample(stored: dict[str, Any]) -> Sample:
    """A sample as Redis holds it; fields this version does not know (a newer process's, during
    a rolling upgrade) are left out, and fields it lacks take their defaults (an older one's)."""
    return Sample(**{name: value for name, value in stored.items() if name in _FIELDS})
