"""What every engine does the same way: decide a room's commands in order, keep a replica of
each room's state, number events with (epoch, offset), keep recent history for resume, notify.

Commands that arrive while a room's storage write is in flight are decided together and stored
in one write when it returns (group commit): a vote storm costs a round trip to storage per
batch, not per vote, and each command still sees the state its predecessors left.

An engine only supplies durable storage: ``_append`` makes events durable and numbers them, or
raises ``StaleReplica`` when another process got there first; ``_catch_up`` reads what it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import secrets
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..domain.decide import AnyCommand, Context, decide
from ..domain.errors import CommandRefused
from ..domain.events import Event, event_from_data
from ..domain.evolve import evolve
from ..domain.filters import RoomPolicy
from ..domain.roles import Actor
from ..domain.room import RoomState

log = logging.getLogger(__name__)

HISTORY_SIZE = 2000  # events kept per room for resume; older clients reload a snapshot
SNAPSHOT_EVERY = 500  # events between two durable snapshots of a room
MAX_ATTEMPTS = 50  # optimistic retries when other processes keep writing to the same room
MAX_BATCH = 100  # commands decided together and stored in one write


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
        return cls(data["epoch"], data["offset"], event_from_data(data["event"]))


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
    waiting: list[Waiting] = field(default_factory=list)  # commands not yet decided, in arrival order
    committer: asyncio.Task[None] | None = None  # decides and stores the waiting commands, batch by batch


@dataclass
class Waiting:
    """A command waiting for its room's committer, and the caller waiting for its outcome."""

    command: AnyCommand
    actor: Actor
    now: float
    policy: RoomPolicy
    outcome: asyncio.Future[CommandResult]
    events: list[Event] = field(default_factory=list)
    created_id: str | None = None
    refused: BaseException | None = None

    def settle(self, result: CommandResult | None = None, error: BaseException | None = None) -> None:
        if self.outcome.done():  # the caller gave up waiting (its client went away)
            return
        if error is not None:
            self.outcome.set_exception(error)
        else:
            assert result is not None
            self.outcome.set_result(result)


def new_id() -> str:
    """16 hex digits (64 bits): safe in URLs, file names and CSV cells, and cheap (one is made
    for every command). URL-safe base64 ids began with "-" one time in 64, which a spreadsheet
    reads as a formula, so the CSV export quoted them and the exported id no longer matched."""
    return secrets.token_hex(8)


def new_epoch() -> str:
    return secrets.token_hex(6)


class Engine(ABC):
    name: str = "abstract"

    def __init__(self, initial_states: dict[str, RoomState]) -> None:
        self._initial_states = initial_states
        self._replicas: dict[str, Replica] = {}
        self._listeners: list[Listener] = []
        self._closing = False

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
        """Decide, store and apply one command; raises CommandRefused and changes nothing if refused.

        Once queued, the command belongs to the room's committer: a caller that is cancelled (its
        client went away) stops waiting, but the command is still decided with its batch.
        """
        replica = self._replicas[room_id]
        if self._closing:
            raise StorageUnavailable("the server is shutting down; try again")
        waiting = Waiting(command, actor, now, policy or RoomPolicy(), asyncio.get_running_loop().create_future())
        replica.waiting.append(waiting)
        if replica.committer is None or replica.committer.done():
            replica.committer = asyncio.create_task(self._commit_waiting(room_id, replica), name=f"commit-{room_id}")
        return await waiting.outcome

    async def _stop_committers(self) -> None:
        """On close: commands not yet stored are refused, and no committer outlives the engine."""
        self._closing = True
        for replica in self._replicas.values():
            if replica.committer is not None and not replica.committer.done():
                replica.committer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await replica.committer
            self._refuse_waiting(replica)

    @staticmethod
    def _refuse_waiting(replica: Replica, batch: Iterable[Waiting] = ()) -> None:
        stopping = StorageUnavailable("the server is shutting down; the command was not applied")
        for waiting in [*batch, *replica.waiting]:
            waiting.settle(error=stopping)
        replica.waiting.clear()

    async def _commit_waiting(self, room_id: str, replica: Replica) -> None:
        batch: list[Waiting] = []
        try:
            while replica.waiting:
                batch = replica.waiting[:MAX_BATCH]
                del replica.waiting[:MAX_BATCH]
                if not await self._commit_or_answer(room_id, replica, batch):
                    # Not the storage: something in one command (an event that will not serialise,
                    # say). Each command alone, so that only the one at fault fails.
                    for waiting in batch:
                        await self._commit_or_answer(room_id, replica, [waiting])
        except asyncio.CancelledError:
            self._refuse_waiting(replica, batch)
            raise

    async def _commit_or_answer(self, room_id: str, replica: Replica, batch: list[Waiting]) -> bool:
        """Commit, or give every caller the failure; False (nobody answered) when a batch of
        several failed for a reason that is not the storage's, to be tried one by one."""
        try:
            await self._commit(room_id, replica, batch)
            return True
        except StorageUnavailable as unavailable:
            failure: Exception = unavailable
        except Exception as error:
            if len(batch) > 1:
                log.exception("room %s: a batch of %d failed; storing its commands one by one", room_id, len(batch))
                return False
            failure = error
        for waiting in batch:
            waiting.settle(error=waiting.refused or failure)
        return True

    async def _commit(self, room_id: str, replica: Replica, batch: list[Waiting]) -> None:
        """Decide a batch on the replica's state, store all its events in one write, apply them.

        Only the write can fail for want of being current (another process wrote first); the
        batch is then decided again on the caught-up state, as a single command would be.
        """
        for attempt in range(MAX_ATTEMPTS):
            events = self._decide_batch(replica.state, batch)
            if not events:
                break
            try:
                stored = await self._append(room_id, replica, events)
            except StaleReplica:
                await self._catch_up(room_id)
                # Jitter, so that two processes writing one room stop colliding in lockstep.
                await asyncio.sleep(random.uniform(0, 0.002 * attempt))
                continue
            self._advance(room_id, stored)
            for waiting in batch:
                if waiting.events:
                    waiting.settle(CommandResult(stored[: len(waiting.events)], waiting.created_id))
                    stored = stored[len(waiting.events) :]
            break
        else:
            busy = StorageUnavailable("the room is too busy; try again")
            for waiting in batch:
                waiting.settle(error=waiting.refused or busy)
            return
        for waiting in batch:  # refused, or nothing to change (a repeated tap)
            waiting.settle(CommandResult([]), waiting.refused)
        try:
            await self._maybe_snapshot(room_id, replica)
        except Exception:  # the log still holds every event: the next snapshot will do
            log.exception("room %s: snapshot at offset %d failed", room_id, replica.offset)

    @staticmethod
    def _decide_batch(state: RoomState, batch: list[Waiting]) -> list[Event]:
        """Each command decided on the state its predecessors in the batch left, without changing
        ``state``: a lone command is decided on it directly, a batch on a copy."""
        scratch = state if len(batch) == 1 else state.clone()
        events: list[Event] = []
        for waiting in batch:
            context = Context(actor=waiting.actor, now=waiting.now, new_id=new_id(), policy=waiting.policy)
            waiting.refused, waiting.events, waiting.created_id = None, [], context.new_id
            try:
                decided = decide(scratch, waiting.command, context)
            except CommandRefused as refused:
                waiting.refused = refused
                continue
            except Exception as error:  # a bug in one command must not fail the others in its batch
                log.exception("room %s: deciding %s failed", state.room_id, waiting.command.type)
                waiting.refused = error
                continue
            waiting.events = decided
            events.extend(decided)
            if scratch is not state:
                for event in decided:
                    evolve(scratch, event)
        return events

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
