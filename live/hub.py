"""Fan-out of a room's events to its live connections.

Each event is projected and serialised once per audience (public, presenter, moderator), then the same text
is handed to every connection of that audience. ``push`` never waits: every connection has a
bounded outbox (a direct connection's is its socket buffer; an ASGI one's, a queue drained by its
writer task), so a slow phone only ever delays itself: when its outbox overflows it is told to
resync and closed. Counters (upvotes, tallies) are conflated: the newest value per key waits for
the next flush, a few times a second, however many votes arrive in between. Every message's
shape comes from live/protocol.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from . import metrics, protocol
from .domain.polls import tally_earned_by_voting
from .domain.projection import (
    CounterUpdate,
    Projection,
    author_notice,
    counters,
    personal_view,
    poll_counters,
    project,
    quiz_rank_notices,
    room_view,
)
from .domain.roles import Audience
from .engines.engine import Engine
from .engines.storage import Position, StoredEvent
from .outbox import RESYNC, Connection, Outgoing, Snapshot
from .protocol import encode

__all__ = ["RESYNC", "Connection", "Hub", "Outgoing", "encode"]

log = logging.getLogger(__name__)

Notice = tuple[str, dict[str, Any]]  # (participant id, message): for that participant's connections only


def event_messages(stored: StoredEvent, audience: Audience) -> tuple[Projection, Notice | None]:
    """What a stored event becomes for an audience, live or replayed on resume: a message for
    every connection of it (with the event's position), a counter update, or nothing; plus, for
    the public audience, what only the question's asker hears."""
    message = project(stored.event, audience)
    if isinstance(message, dict):
        message = protocol.at(message, stored.epoch, stored.offset)
    notice = author_notice(stored.event) if audience is Audience.PUBLIC else None
    if notice is None:
        return message, None
    return message, (notice[0], protocol.at(notice[1], stored.epoch, stored.offset))


FLUSH_INTERVAL = 0.25  # seconds between two counter updates of a room


SNAPSHOT_REUSE_EVENTS = 200  # a cached room view this many events old is reused, the events replayed after it
SNAPSHOT_REUSE_SECONDS = 1.0
MODERATOR_NOTICES_KEPT = 200  # per room


@dataclass(frozen=True)
class CachedRoom:
    """A room view serialised for an audience, as the shared head of a ``snapshot`` message,
    and the position it shows."""

    position: Position
    head: Outgoing
    built_at: float


@dataclass
class RoomChannel:
    connections: dict[Audience, set[Connection]] = field(default_factory=lambda: {a: set() for a in Audience})
    pending: dict[Audience, dict[str, dict[str, Any]]] = field(default_factory=dict)
    by_participant: dict[str, set[Connection]] = field(default_factory=dict)  # public connections by person
    pending_position: Position | None = None
    snapshot_cache: dict[Audience, CachedRoom] = field(default_factory=dict)


class Hub:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.rooms: dict[str, RoomChannel] = {room_id: RoomChannel() for room_id in engine.room_ids}
        self.serialisations = 0  # how many times an event was turned into text: once per audience
        self.deliveries = 0  # messages handed to connections
        self._flusher: asyncio.Task[None] | None = None
        self.statuses: dict[str, dict[str, str]] = {}  # room -> status type -> latest text (video)
        self.moderator_notices: dict[str, dict[str, Outgoing]] = {}  # room -> key -> latest text
        engine.listen(self.publish)

    def start(self) -> None:
        self._flusher = asyncio.create_task(self._flush_forever(), name="hub-flush")
        # Read when /metrics is scraped, not on a timer: it visits every connection, which at
        # 10,000 viewers cost as much CPU a second as a thousand deliveries (docs/CAPACITY.md).
        metrics.OUTBOX_DEPTH.set_function(self.deepest_outbox)

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            metrics.OUTBOX_DEPTH.set_function(lambda: 0)  # let this hub go
        for channel in self.rooms.values():
            for connections in channel.connections.values():
                for connection in connections:
                    connection.stop()

    def count(self, room_id: str) -> int:
        return sum(len(c) for c in self.rooms[room_id].connections.values())

    def connection_count(self) -> int:
        """Every room's connections (live/gc_policy.py freezes the heap as this grows)."""
        return sum(self.count(room_id) for room_id in self.rooms)

    # -- events in ---------------------------------------------------------------------------
    def publish(self, room_id: str, stored: StoredEvent) -> None:
        channel = self.rooms.get(room_id)
        if channel is None:
            return
        metrics.EVENTS.labels(room=room_id).inc()
        for audience, connections in channel.connections.items():
            if not connections:
                continue
            message, notice = event_messages(stored, audience)
            if isinstance(message, CounterUpdate):
                groups = channel.pending.setdefault(audience, {"votes": {}, "polls": {}})
                groups[message.group][message.key] = message.value
                channel.pending_position = Position(stored.epoch, stored.offset)
            elif message is not None:
                self._fan_out(self._serialise(message), connections)
            if notice is not None and notice[0] in channel.by_participant:
                self._fan_out(self._serialise(notice[1]), channel.by_participant[notice[0]])
            if audience is Audience.PUBLIC:  # a quiz's reveal: each player hears their own place
                state = self.engine.state(room_id)
                for who, rank in quiz_rank_notices(state, stored.event, channel.by_participant):
                    text = self._serialise(protocol.at(rank, stored.epoch, stored.offset))
                    self._fan_out(text, channel.by_participant[who])

    def _fan_out(self, text: Outgoing, connections: set[Connection]) -> None:
        for connection in connections:
            connection.push(text)
        self.deliveries += len(connections)

    def publish_status(self, room_id: str, message: dict[str, Any], keep: bool = True) -> None:
        """Runtime status that is not domain state (the room's video: live or offline): serialised
        once and sent to every connection of the room; if ``keep``, each new connection also gets
        it right after its snapshot (a status that is the default, like "offline", is not kept)."""
        channel = self.rooms.get(room_id)
        if channel is None:
            return
        text = self._serialise(message)
        kept = self.statuses.setdefault(room_id, {})
        if keep:
            kept[str(message["type"])] = text
        else:
            kept.pop(str(message["type"]), None)
        for connections in channel.connections.values():
            for connection in connections:
                connection.push(text)

    def publish_to_moderators(self, room_id: str, message: dict[str, Any], key: str) -> None:
        """Runtime notices for the room's moderators only (vote alerts), serialised once; the latest
        per ``key`` is kept for moderators who connect later (the oldest keys forgotten first)."""
        channel = self.rooms.get(room_id)
        if channel is None:
            return
        text = self._serialise(message)
        kept = self.moderator_notices.setdefault(room_id, {})
        kept.pop(key, None)
        kept[key] = text
        if len(kept) > MODERATOR_NOTICES_KEPT:
            kept.pop(next(iter(kept)))
        self._fan_out(text, channel.connections[Audience.MODERATOR])

    def _serialise(self, message: dict[str, Any]) -> Outgoing:
        self.serialisations += 1
        return Outgoing(encode(message))

    async def _flush_forever(self) -> None:
        rounds, counted = 0, 0
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            self.flush_counters()
            rounds += 1
            if rounds % 4 == 0:  # once a second is enough for metrics
                metrics.DELIVERIES.inc(self.deliveries - counted)  # counted here, not per message
                counted = self.deliveries

    def deepest_outbox(self) -> int:
        return max(
            (c.depth for channel in self.rooms.values() for cs in channel.connections.values() for c in cs),
            default=0,
        )

    def flush_counters(self) -> None:
        """Send each room's newest counter values, once per audience, if any changed.

        Poll values are read from the state now, once per flush. An after_vote poll's tally goes
        only to connections whose participant voted in it: those get a variant of the message,
        serialised once per distinct set of such polls they voted in (usually one or two texts)."""
        for room_id, channel in self.rooms.items():
            position = channel.pending_position
            if position is None:
                continue
            state = self.engine.state(room_id)
            for audience, groups in channel.pending.items():
                head = protocol.counters(position.epoch, position.offset, groups["votes"], {})
                polls = {}
                voter_only = []  # after_vote polls whose tally only their voters may see
                for poll_id in groups["polls"]:
                    value = poll_counters(state, poll_id, audience, voted=False)
                    if value is not None:
                        polls[poll_id] = value
                        if tally_earned_by_voting(state.polls[poll_id], audience):
                            voter_only.append(poll_id)
                texts: dict[frozenset[str], Outgoing] = {frozenset(): self._serialise({**head, "polls": polls})}
                for connection in channel.connections[audience]:
                    voted = frozenset(
                        poll_id for poll_id in voter_only if connection.participant_id in state.ballots.get(poll_id, {})
                    )
                    text = texts.get(voted)
                    if text is None:
                        shown = {poll_id: {**polls[poll_id], "tally": state.poll_tally(poll_id)} for poll_id in voted}
                        text = texts[voted] = self._serialise({**head, "polls": {**polls, **shown}})
                    connection.push(text)
                self.deliveries += len(channel.connections[audience])
            channel.pending.clear()
            channel.pending_position = None

    # -- connections -------------------------------------------------------------------------
    def attach(self, connection: Connection, participant_id: str | None, resume: Position | None) -> None:
        """Register a connection and queue what it must see first: a snapshot, or what it missed.

        Runs without awaiting, so no event can fall between the history read here and the
        live events the hub queues from now on.
        """
        room_id, audience = connection.room_id, connection.audience
        connection.participant_id = participant_id
        channel = self.rooms[room_id]
        position = self.engine.position(room_id)
        missed = self.engine.history(room_id, resume) if resume is not None else None
        if missed is not None and len(missed) >= connection.limit:
            missed = None  # replaying more than the outbox holds would only end in a resync
        if resume is not None and missed is None:
            reason = "epoch" if resume.epoch != position.epoch else "too_old"
            if resume.epoch == position.epoch and resume.offset > position.offset:
                reason = "unknown_offset"
            connection.outbox.append(self._serialise(protocol.reload(reason)))
            metrics.RESYNCS.labels(reason=reason).inc()
        if missed is None:
            # Thousands join at once during a vote storm, when every vote moves the offset: a room
            # view up to a second old is reused, and the events since it are replayed after it.
            cached = self._room_view(channel, room_id, audience, position)
            connection.outbox.append(self._snapshot_message(cached, room_id, audience, participant_id))
            if cached.position.offset < position.offset:
                missed = self.engine.history(room_id, cached.position) or []
        if missed is not None:
            for stored in missed:
                message, notice = event_messages(stored, audience)
                if isinstance(message, dict):  # counter updates: the full counters below
                    connection.outbox.append(encode(message))
                if notice is not None and notice[0] == participant_id:  # what only the asker hears
                    connection.outbox.append(encode(notice[1]))
                if participant_id is not None and audience is Audience.PUBLIC:  # a quiz revealed meanwhile
                    state = self.engine.state(room_id)
                    for _, rank in quiz_rank_notices(state, stored.event, (participant_id,)):
                        connection.outbox.append(encode(protocol.at(rank, stored.epoch, stored.offset)))
            current = counters(self.engine.state(room_id), audience, participant_id)
            connection.outbox.append(encode(protocol.counters(position.epoch, position.offset, **current)))
        connection.outbox.extend(self.statuses.get(room_id, {}).values())  # video: live or offline
        if audience is Audience.MODERATOR:  # vote alerts
            connection.outbox.extend(self.moderator_notices.get(room_id, {}).values())
        channel.connections[audience].add(connection)
        if participant_id is not None and audience is Audience.PUBLIC:
            channel.by_participant.setdefault(participant_id, set()).add(connection)
        metrics.CONNECTIONS.labels(room=room_id, role=connection.role).inc()

    def rename(self, participant_id: str, name: str | None) -> None:
        """A participant saved a new name: their open viewer streams use it from their next
        command (a quiz's leaderboard, a question asked), not the name of their handshake."""
        for channel in self.rooms.values():
            for connection in channel.by_participant.get(participant_id, ()):
                connection.display_name = name

    def detach(self, connection: Connection) -> None:
        connection.stop()
        channel = self.rooms[connection.room_id]
        own = channel.by_participant.get(connection.participant_id or "")
        if own is not None:
            own.discard(connection)
            if not own:
                del channel.by_participant[connection.participant_id or ""]
        connections = channel.connections[connection.audience]
        if connection in connections:
            connections.discard(connection)
            metrics.CONNECTIONS.labels(room=connection.room_id, role=connection.role).dec()

    def _room_view(self, channel: RoomChannel, room_id: str, audience: Audience, position: Position) -> CachedRoom:
        cached = channel.snapshot_cache.get(audience)
        now = time.monotonic()
        if (
            cached is not None
            and cached.position.epoch == position.epoch
            and position.offset - cached.position.offset <= SNAPSHOT_REUSE_EVENTS
            and now - cached.built_at <= SNAPSHOT_REUSE_SECONDS
            and self.engine.history(room_id, cached.position) is not None
        ):
            return cached
        self.serialisations += 1
        text = protocol.snapshot_head(
            position.epoch, position.offset, encode(room_view(self.engine.state(room_id), audience))
        )
        cached = channel.snapshot_cache[audience] = CachedRoom(position, Outgoing(text), now)
        return cached

    def _snapshot_message(
        self, cached: CachedRoom, room_id: str, audience: Audience, participant_id: str | None
    ) -> Snapshot:
        """The room part is shared (and may be a moment old: the missed events follow it); the
        participant's own part is built now, from the current state."""
        mine = personal_view(self.engine.state(room_id), audience, participant_id)
        return Snapshot(cached.head, protocol.snapshot_tail(mine))
