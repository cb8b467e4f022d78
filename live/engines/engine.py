"""Rooms over any storage: decide a room's commands in order, keep a replica of each room's
state, number events with (epoch, offset), keep recent history for resume, notify listeners.

Commands that arrive while a room's storage write is in flight are decided together and stored
in one write when it returns (group commit): a vote storm costs a round trip to storage per
batch, not per vote, and each command still sees the state its predecessors left.

The storage (``storage.Storage``: SQLite or Redis) only stores; when another process wrote to
the room first, its append says so (``StaleReplica``), and the batch is decided again here.

No unknown outcome is passed off as a refusal. A command has a deadline: a caller still waiting
for it then is told ``OutcomeUnknown`` if its batch was sent to storage (it may yet be applied),
or ``StorageUnavailable`` if it was still queued (it is withdrawn: certainly not applied). While a
room's write has been in flight longer than the deadline, the room accepts no new command
(``StorageUnavailable`` at once) and ``health`` names it. A command with an idempotency key the
room has applied is answered with that command's outcome and applies nothing: the replica keeps
the key of every command whose first event is in its history (the room's last ``history_size``
events, rebuilt from storage on start), and the decision checks it on the caught-up state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..domain.decide import AnyCommand
from ..domain.events import Event
from ..domain.evolve import evolve
from ..domain.filters import RoomPolicy
from ..domain.roles import Actor
from ..domain.room import RoomState
from .batch import CommandResult, Waiting, decide_batch
from .storage import OutcomeUnknown, Position, StaleReplica, Storage, StorageUnavailable, StoredEvent

log = logging.getLogger(__name__)

SNAPSHOT_EVERY = 500  # events between two durable snapshots of a small room (a big one: _maybe_snapshot)
SNAPSHOT_GAP_LIMIT = 10_000  # the most events between two snapshots, however big the room
MAX_ATTEMPTS = 50  # optimistic retries when other processes keep writing to the same room
MAX_BATCH = 100  # commands decided together and stored in one write
READ_PAGE = 1000  # events read from storage at a time, when loading or catching up
COMMAND_DEADLINE = 5.0  # seconds a caller waits for its command (settings: --command-deadline)

Listener = Callable[[str, StoredEvent], None]


@dataclass
class Replica:
    state: RoomState
    epoch: str
    history: deque[StoredEvent]
    offset: int = 0
    snapshot_offset: int = 0
    snapshot_size: int = 0  # items in the room when its last snapshot was taken (RoomState.snapshot_size)
    snapshot_failed_at: int = -1  # the offset of the last snapshot that could not be stored
    waiting: list[Waiting] = field(default_factory=list)  # commands not yet decided, in arrival order
    committer: asyncio.Task[None] | None = None  # decides and stores the waiting commands, batch by batch
    outcomes: dict[str, list[StoredEvent]] = field(default_factory=dict)  # idempotency key -> its events
    writing_since: float | None = None  # time.monotonic() when the write in flight was sent

    def keep(self, stored: StoredEvent) -> None:
        """Add an event to the history; a key is forgotten when its command's first event leaves it."""
        if self.history.maxlen is not None and len(self.history) == self.history.maxlen:
            oldest = self.history[0]
            if oldest.key is not None and self.outcomes.get(oldest.key, [None])[0] is oldest:
                del self.outcomes[oldest.key]
        self.history.append(stored)
        if stored.key is not None:
            self.outcomes.setdefault(stored.key, []).append(stored)

    def writing_for(self, now: float) -> float:
        """Seconds the write in flight has waited for storage (0: none in flight)."""
        return 0.0 if self.writing_since is None else now - self.writing_since


class Engine:
    def __init__(
        self,
        storage: Storage,
        initial_states: dict[str, RoomState],
        snapshot_every: int = SNAPSHOT_EVERY,
        deadline: float = COMMAND_DEADLINE,
        snapshot_gap_limit: int = SNAPSHOT_GAP_LIMIT,
    ) -> None:
        self.storage = storage
        self.deadline = deadline
        self._initial_states = initial_states
        self._snapshot_every = snapshot_every
        self._snapshot_gap_limit = max(snapshot_every, snapshot_gap_limit)
        self._replicas: dict[str, Replica] = {}
        self._listeners: list[Listener] = []
        self._catching_up: dict[str, asyncio.Task[None]] = {}
        self._needs_catch_up: set[str] = set()
        self._closing = False

    @property
    def name(self) -> str:
        return self.storage.name

    @property
    def room_ids(self) -> list[str]:
        return list(self._initial_states)

    # -- life cycle -----------------------------------------------------------------------
    async def start(self) -> None:
        await self.storage.open()
        for room_id, initial in self._initial_states.items():
            await self._load(room_id, initial)
        await self.storage.follow(self)
        for room_id in self._replicas:  # whatever was written between loading and following
            await self._catch_up(room_id)

    async def _load(self, room_id: str, initial: RoomState) -> None:
        """The last snapshot, the history before it (for resume), and every event after it."""
        stored = await self.storage.load(room_id)
        state = initial if stored.snapshot is None else RoomState.from_snapshot(stored.snapshot)
        history: deque[StoredEvent] = deque(maxlen=self.storage.history_size)
        replica = Replica(state, stored.epoch, history, stored.snapshot_offset, stored.snapshot_offset)
        replica.snapshot_size = state.snapshot_size()
        self._replicas[room_id] = replica
        after = max(0, replica.offset - self.storage.history_size)
        while after < replica.offset:
            page = await self.storage.read_after(room_id, after, READ_PAGE)
            earlier = [event for event in page if event.offset <= replica.offset]
            for stored_event in earlier:  # already in the snapshot: history (and keys) only
                replica.keep(stored_event)
            if not earlier or len(earlier) < len(page):
                break
            after = earlier[-1].offset
        await self._catch_up(room_id)

    async def close(self) -> None:
        """Commands not yet stored are refused, and no task outlives the engine."""
        self._closing = True
        for replica in self._replicas.values():
            if replica.committer is not None and not replica.committer.done():
                replica.committer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await replica.committer
            self._refuse_waiting(replica)
        for task in self._catching_up.values():
            task.cancel()
        await self.storage.close()

    async def health(self) -> dict[str, Any]:
        """The storage's health, and the rooms not accepting writes while their storage does not
        answer (then not ok)."""
        health = await self.storage.health()
        stalled = self.rooms_not_answering()
        if stalled:
            health = {**health, "ok": False, "rooms_not_accepting_writes": stalled}
        return health

    def rooms_not_answering(self) -> list[str]:
        now = time.monotonic()
        return [room_id for room_id, replica in self._replicas.items() if replica.writing_for(now) > self.deadline]

    # -- reading ----------------------------------------------------------------------------
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

    # -- writing: group commit ----------------------------------------------------------------
    async def execute(
        self,
        room_id: str,
        command: AnyCommand,
        actor: Actor,
        now: float,
        policy: RoomPolicy | None = None,
        key: str | None = None,
    ) -> CommandResult:
        """Decide, store and apply one command; raises CommandRefused and changes nothing if refused.

        ``key``: the command's scoped idempotency key (``domain.idempotency.scoped_key``). Raises
        StorageUnavailable (not applied) or OutcomeUnknown (maybe applied) past the deadline.
        Once queued, the command belongs to the room's committer: a caller that is cancelled (its
        client went away) stops waiting, but the command is still decided with its batch.
        """
        replica = self._replicas[room_id]
        if self._closing:
            raise StorageUnavailable("the server is shutting down; the command was not applied")
        if key is not None and key in replica.outcomes:
            return CommandResult.of_applied(replica.outcomes[key])
        stalled = replica.writing_for(time.monotonic())
        if stalled > self.deadline:
            raise StorageUnavailable(
                f"the room's storage has not answered for {stalled:.0f} s; the command was not applied"
            )
        waiting = Waiting(command, actor, now, policy or RoomPolicy(), asyncio.get_running_loop().create_future(), key)
        replica.waiting.append(waiting)
        if replica.committer is None or replica.committer.done():
            replica.committer = asyncio.create_task(self._commit_waiting(room_id, replica), name=f"commit-{room_id}")
        expiry = asyncio.get_running_loop().call_later(self.deadline, self._expire, replica, waiting)
        try:
            return await waiting.outcome
        finally:
            expiry.cancel()

    def _expire(self, replica: Replica, waiting: Waiting) -> None:
        """The deadline passed: a command still queued is withdrawn (certainly not applied); one
        whose batch was sent stays with the committer, and may still be applied."""
        if waiting.outcome.done():
            return
        if waiting in replica.waiting:
            replica.waiting.remove(waiting)
            waiting.settle(
                error=StorageUnavailable(
                    f"the room's storage did not answer within {self.deadline:g} s; the command was not applied"
                )
            )
            return
        waiting.settle(
            error=OutcomeUnknown(
                f"the room's storage did not answer within {self.deadline:g} s; the command may or may not "
                "have been applied: retry with the same idempotency key"
            )
        )

    @staticmethod
    def _refuse_waiting(replica: Replica, batch: Iterable[Waiting] = ()) -> None:
        """On shutdown: the batch in flight may have been applied; the queued ones were not."""
        in_flight = OutcomeUnknown("the server is shutting down; the command may or may not have been applied")
        for waiting in batch:
            waiting.settle(error=in_flight)
        stopping = StorageUnavailable("the server is shutting down; the command was not applied")
        for waiting in replica.waiting:
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
        except (StorageUnavailable, OutcomeUnknown) as unavailable:
            failure: Exception = unavailable
        except Exception as error:
            if len(batch) > 1:
                log.exception("room %s: a batch of %d failed; storing its commands one by one", room_id, len(batch))
                return False
            failure = error
        for waiting in batch:
            if waiting.result is not None and waiting.result.replayed:
                waiting.answer()  # applied before: its outcome is known whatever this write did
            else:
                waiting.settle(error=waiting.refused or failure)
        return True

    async def _commit(self, room_id: str, replica: Replica, batch: list[Waiting]) -> None:
        """Decide a batch on the replica's state, store all its events in one write, apply them.

        Only the write can fail for want of being current (another process wrote first); the
        batch is then decided again on the caught-up state, as a single command would be.
        """
        for attempt in range(MAX_ATTEMPTS):
            events = decide_batch(replica.state, batch, replica.outcomes.get)
            if not events:
                break
            stored = self._number(replica, batch)
            replica.writing_since = time.monotonic()
            try:
                await self.storage.append(room_id, stored)
            except StaleReplica:
                await self._catch_up(room_id)
                # Jitter, so that two processes writing one room stop colliding in lockstep.
                await asyncio.sleep(random.uniform(0, 0.002 * attempt))
                continue
            finally:
                replica.writing_since = None
            self._advance(room_id, stored)
            for waiting in batch:
                if waiting.events:
                    waiting.result = CommandResult(stored[: len(waiting.events)], waiting.created_id)
                    stored = stored[len(waiting.events) :]
            break
        else:
            busy = StorageUnavailable("the room is too busy; the command was not applied")
            for waiting in batch:
                waiting.settle(error=waiting.refused or busy)
            return
        for waiting in batch:  # stored, refused, nothing to change (a repeated tap), or applied before
            waiting.answer()
        try:
            await self._maybe_snapshot(room_id, replica)
        except Exception:  # the log still holds every event: the next snapshot will do
            log.exception("room %s: snapshot at offset %d failed", room_id, replica.offset)

    @staticmethod
    def _number(replica: Replica, batch: list[Waiting]) -> list[StoredEvent]:
        """The batch's events, numbered, each with its command's idempotency key."""
        keyed: list[tuple[Event, str | None]] = [(e, waiting.key) for waiting in batch for e in waiting.events]
        return [
            StoredEvent(replica.epoch, replica.offset + i, event, key) for i, (event, key) in enumerate(keyed, start=1)
        ]

    async def _maybe_snapshot(self, room_id: str, replica: Replica) -> None:
        """A snapshot every ``snapshot_every`` events, or, once the room has grown bigger than
        that, only after as many events as the last snapshot held items. A snapshot's cost grows
        with the room: at a fixed interval a vote storm (5,000 ballots, 20,000 upvotes) spent a
        fifth of its CPU writing snapshots. This way each event pays a bounded share of them (the
        interval doubles while every event adds an item), and a restart replays at most about as
        many events as the snapshot it starts from holds items. Never much more than
        ``snapshot_gap_limit`` events apart, though (checked after each batch): the log is kept
        from the last snapshot on (Redis holds it in memory), and a restart replays it.

        Another process on the same room may have taken one since (Redis): then it is not taken
        again. One that could not be stored stays due, and is tried again ``snapshot_every`` events
        later (not after every batch: a storage that refuses big writes would have each batch
        serialise the whole room)."""
        if not self._snapshot_due(replica):
            return
        stored = await self.storage.snapshot_offset(room_id)
        if stored is not None and stored > replica.snapshot_offset:
            replica.snapshot_offset = stored
            replica.snapshot_size = replica.state.snapshot_size()  # at most this big then
            if not self._snapshot_due(replica):
                return
        offset, size = replica.offset, replica.state.snapshot_size()
        replica.snapshot_failed_at = offset  # until it is known to be stored
        if await self.storage.save_snapshot(room_id, replica.epoch, offset, replica.state.to_snapshot()):
            replica.snapshot_offset, replica.snapshot_size, replica.snapshot_failed_at = offset, size, -1

    def _snapshot_due(self, replica: Replica) -> bool:
        since = replica.offset - replica.snapshot_offset
        if replica.snapshot_failed_at >= 0 and replica.offset - replica.snapshot_failed_at < self._snapshot_every:
            return False
        return since >= self._snapshot_every and since >= min(replica.snapshot_size, self._snapshot_gap_limit)

    # -- following: events in order, from this process or others ------------------------------
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
            replica.keep(stored)
            for listener in self._listeners:
                try:
                    listener(room_id, stored)
                except Exception:  # a broken listener must not stop the room
                    log.exception("listener failed on room %s offset %d", room_id, stored.offset)
        return True

    async def _catch_up(self, room_id: str) -> None:
        """Read and apply what this process has not seen yet."""
        replica = self._replicas[room_id]
        while page := await self.storage.read_after(room_id, replica.offset, READ_PAGE):
            if not self._advance(room_id, page):
                log.error("room %s: the stored log has a gap after offset %d", room_id, replica.offset)
                return

    def receive_appended(self, room_id: str, events: list[StoredEvent]) -> None:
        """Events another process appended (``storage.Follower``)."""
        if not self._advance(room_id, events):
            self.catch_up_later(room_id)

    def catch_up_later(self, room_id: str) -> None:
        """Catch up in the background; requests made while one runs make it run again."""
        self._needs_catch_up.add(room_id)
        if room_id in self._catching_up:
            return

        async def run() -> None:
            try:
                while room_id in self._needs_catch_up:
                    self._needs_catch_up.discard(room_id)
                    await self._catch_up(room_id)
            except StorageUnavailable:
                log.warning("room %s: catch-up failed; will retry on the next event", room_id)
            finally:
                self._catching_up.pop(room_id, None)

        self._catching_up[room_id] = asyncio.create_task(run())
