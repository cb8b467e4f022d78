"""What every engine does the same way: run commands one at a time per room, keep a replica of
each room's state, number events with (epoch, offset), keep recent history for resume, notify.

An engine only supplies durable storage: ``_append`` makes events durable and numbers them, or
raises ``StaleReplica`` when another process got there first; ``_catch_up`` reads what it missed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets
import string
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..domain.decide import AnyCommand, Context, decide
from ..domain.events import Event, event_from_json
from ..domain.evolve import evolve
from ..domain.filters import RoomPolicy
from ..domain.roles import Actor
from ..domain.room import RoomState

log = logging.getLogger(__name__)

HISTORY_SIZE = 2000  # events kept per room for resume; older clients reload a snapshot
SNAPSHOT_EVERY = 500  # events between two durable snapshots of a room
MAX_ATTEMPTS = 50  # optimistic retries when other processes keep writing to the same room


@dataclass(frozen=True)
class StoredEvent:
    """An event as the room's log holds it: numbered, and serialised once."""

    epoch: str
    offset: int
    event: Event

    @cached_property
    def payload(self) -> str:
        return json.dumps({"epoch": self.epoch, "offset": self.offset, "event": self.event.model_dump(mode="json")})

    @classmethod
    def from_payload(cls, payload: str | bytes) -> StoredEvent:
        data = json.loads(payload)
        return cls(data["epoch"], data["offset"], event_from_json(json.dumps(data["event"])))


@dataclass(frozen=True)
class Position:
    epoch: str
    offset: int


@dataclass
class CommandResult:
    events: list[StoredEvent]
    created_id: str | None = None  # the id of what the command created (a question, a poll)


class StaleReplica(Exception):
    """The room moved on in storage since this process last saw it."""


class StorageUnavailable(Exception):
    """The engine's storage cannot be reached; the command was not applied."""


Listener = Callable[[str, StoredEvent], None]


@dataclass
class Replica:
    state: RoomState
    epoch: str
    offset: int = 0
    history: deque[StoredEvent] = field(default_factory=lambda: deque(maxlen=HISTORY_SIZE))
    snapshot_offset: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


ID_ALPHABET = string.ascii_letters + string.digits


def new_id() -> str:
    """12 letters or digits (71 bits): safe in URLs, file names and CSV cells.

    URL-safe base64 ids began with "-" one time in 64, and a spreadsheet reads such a cell as a
    formula, so the CSV export had to quote it and the exported id no longer matched.
    """
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(12))


def new_epoch() -> str:
    return secrets.token_hex(6)


class Engine(ABC):
    name: str = "abstract"

    def __init__(self, initial_states: dict[str, RoomState]) -> None:
        self._initial_states = initial_states
        self._replicas: dict[str, Replica] = {}
        self._listeners: list[Listener] = []

    # -- what engines provide -------------------------------------------------------------
    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def health(self) -> dict[str, Any]: ...

    @abstractmethod
    async def _append(self, room_id: str, replica: Replica, events: list[Event]) -> list[StoredEvent]:
        """Durably append events after ``replica.offset``, or raise StaleReplica."""

    @abstractmethod
    async def _catch_up(self, room_id: str) -> None:
        """Read events this process has not seen yet and pass them to ``_advance``."""

    async def _save_snapshot(self, room_id: str, replica: Replica, snapshot: dict[str, Any]) -> None:  # noqa: B027
        """Store the state at ``replica.offset``; engines whose log is unbounded may skip it."""

    # -- the shared machinery -------------------------------------------------------------
    @property
    def room_ids(self) -> list[str]:
        return list(self._initial_states)

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def state(self, room_id: str) -> RoomState:
        return self._replicas[room_id].state

    def position(self, room_id: str) -> Position:
        replica = self._replicas[room_id]
        return Position(replica.epoch, replica.offset)

    def history(self, room_id: str, after: Position) -> list[StoredEvent] | None:
        """The events after ``after``, or None when they are gone (another epoch, or too old)."""
        replica = self._replicas[room_id]
        if after.epoch != replica.epoch or after.offset > replica.offset:
            return None
        if after.offset == replica.offset:
            return []
        oldest = replica.history[0].offset if replica.history else replica.offset + 1
        if after.offset + 1 < oldest:
            return None
        return [stored for stored in replica.history if stored.offset > after.offset]

    async def execute(
        self, room_id: str, command: AnyCommand, actor: Actor, now: float, policy: RoomPolicy | None = None
    ) -> CommandResult:
        """Decide, store and apply one command; raises CommandRefused and changes nothing if refused."""
        replica = self._replicas[room_id]
        async with replica.lock:
            for attempt in range(MAX_ATTEMPTS):
                context = Context(actor=actor, now=now, new_id=new_id(), policy=policy or RoomPolicy())
                events = decide(replica.state, command, context)
                if not events:
                    return CommandResult([])
                try:
                    stored = await self._append(room_id, replica, events)
                except StaleReplica:
                    await self._catch_up(room_id)
                    # Jitter, so that two processes writing one room stop colliding in lockstep.
                    await asyncio.sleep(random.uniform(0, 0.002 * attempt))
                    continue
                self._advance(room_id, stored)
                await self._maybe_snapshot(room_id, replica)
                return CommandResult(stored, context.new_id)
        raise StorageUnavailable("the room is too busy; try again")

    def _advance(self, room_id: str, stored_events: Iterable[StoredEvent]) -> bool:
        """Apply events in offset order; returns False at a gap (the caller must catch up)."""
        replica = self._replicas[room_id]
        for stored in stored_events:
            if stored.epoch != replica.epoch:
                log.warning("room %s: event from epoch %s, replica is at %s", room_id, stored.epoch, replica.epoch)
                return False
            if stored.offset <= replica.offset:
                continue  # already applied: our own command, echoed back
            if stored.offset != replica.offset + 1:
                return False
            evolve(replica.state, stored.event)
            replica.offset = stored.offset
            replica.history.append(stored)
            for listener in self._listeners:
                try:
                    listener(room_id, stored)
                except Exception:  # a broken listener must not stop the room
                    log.exception("listener failed on room %s offset %d", room_id, stored.offset)
        return True

    async def _maybe_snapshot(self, room_id: str, replica: Replica) -> None:
        if replica.offset - replica.snapshot_offset < SNAPSHOT_EVERY:
            return
        replica.snapshot_offset = replica.offset
        await self._save_snapshot(room_id, replica, replica.state.to_snapshot())
