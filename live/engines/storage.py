"""What a room's log is kept in, and the one encoding of a stored event.

As in Centrifugo's broker interface, a storage only stores: it loads a room's epoch and last
snapshot, appends numbered events at the offset the writer expects (or says the writer is stale),
reads the events after an offset, saves a snapshot, and passes on what other processes append.
Deciding commands, the replica, history and group commit are ``engine.Engine``'s, the same over
every storage; ``sqlite.SqliteStorage`` (one process) and ``redis.RedisStorage`` (many) implement it.
"""

from __future__ import annotations

import json
import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from ..domain.events import Event, event_from_data, event_to_json

HISTORY_SIZE = 2000  # events kept per room, before the latest, for resume; older clients reload a snapshot


@dataclass(frozen=True)
class Position:
    epoch: str
    offset: int


@dataclass(frozen=True)
class StoredEvent:
    """An event as the room's log holds it: numbered, and serialised once, here, for every storage."""

    epoch: str
    offset: int
    event: Event
    key: str | None = None  # the idempotency key of the command that made it (domain/idempotency.py)

    @cached_property
    def payload(self) -> str:
        """``{"epoch": …, "offset": …, "event": …}`` with the event in the domain's own JSON, and
        ``"key"`` when its command had one (data stored before keys has none); one line (JSON
        strings hold no raw newline), which the Redis channel relies on."""
        head = f'{{"epoch": {json.dumps(self.epoch)}, "offset": {self.offset}, "event": {event_to_json(self.event)}'
        return head + ("}" if self.key is None else f', "key": {json.dumps(self.key)}}}')

    @classmethod
    def from_payload(cls, payload: str | bytes) -> StoredEvent:
        data = json.loads(payload)
        return cls(data["epoch"], data["offset"], event_from_data(data["event"]), data.get("key"))


class StaleReplica(Exception):
    """The room moved on in storage since this process last saw it."""


class StorageUnavailable(Exception):
    """The command was not applied, for certain: the storage could not be reached before anything
    was sent, refused the write, or the room is not accepting writes while its storage does not
    answer."""


class OutcomeUnknown(Exception):
    """The storage did not answer in time: the command may or may not have been applied (it may
    still be, when the storage answers). Retrying with the same idempotency key is safe."""


def new_epoch() -> str:
    return secrets.token_hex(6)


@dataclass(frozen=True)
class StoredRoom:
    """A room as a storage loads it: its epoch, and its last snapshot (None: rebuild from offset 0)."""

    epoch: str
    snapshot_offset: int = 0
    snapshot: dict[str, Any] | None = None


class Follower(Protocol):
    """Who hears of events other processes appended (the engine)."""

    def position(self, room_id: str) -> Position: ...

    def receive_appended(self, room_id: str, events: list[StoredEvent]) -> None: ...

    def catch_up_later(self, room_id: str) -> None:
        """Something may have been missed (an unreadable message, a lost subscription)."""


class Storage(ABC):
    """Durable rooms. ``history_size`` events before the latest stay readable (never fewer than
    those after the last snapshot), and a replica keeps as many for resume."""

    name: str  # what the health check reports as the engine

    def __init__(self, history_size: int = HISTORY_SIZE) -> None:
        self.history_size = history_size

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the data is kept, for people (a file, a Redis address without its password)."""

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def health(self) -> dict[str, Any]: ...

    @abstractmethod
    async def load(self, room_id: str) -> StoredRoom:
        """The room's epoch (a new one for a room never stored) and last snapshot."""

    @abstractmethod
    async def append(self, room_id: str, events: list[StoredEvent]) -> None:
        """Durably append events numbered right after the room's last offset, all or none; raises
        StaleReplica when that offset (or the epoch) is no longer the one they follow (nothing
        stored), StorageUnavailable only when certainly nothing was stored, and OutcomeUnknown
        when it may have been. A storage that cannot tell yet keeps trying until it can."""

    @abstractmethod
    async def read_after(self, room_id: str, offset: int, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` stored events after ``offset``, in order."""

    @abstractmethod
    async def save_snapshot(self, room_id: str, epoch: str, offset: int, snapshot: dict[str, Any]) -> bool:
        """Keep the state at ``offset``; events older than it and the history may then go. True
        when a snapshot at ``offset`` or later is stored (this one, or another process's newer
        one); False when it could not be stored (the engine tries again at its next write)."""

    async def snapshot_offset(self, room_id: str) -> int | None:
        """The offset of the room's stored snapshot, where other processes may have taken one
        since (None: only this process snapshots the room, or the storage cannot say now)."""
        return None

    @abstractmethod
    async def follow(self, follower: Follower) -> None:
        """Pass other processes' appends to ``follower`` from now on; returns once it does."""

    # -- logins ended by logging out: a copy of the cookie must not outlive the logout ---------
    @abstractmethod
    async def revoke_login(self, login_id: str, lifetime: float) -> None:
        """Remember for ``lifetime`` seconds (a session cookie's age) that a login has ended."""

    @abstractmethod
    async def is_login_revoked(self, login_id: str) -> bool: ...
