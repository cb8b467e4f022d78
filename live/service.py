"""The running service as the transports see it: the event, an engine, the hub, the keys.

HTTP and WebSocket handlers both run commands through ``Service.run_command``, so parsing, rate
limits, role checks (in the domain) and metrics happen in one place whatever the transport.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from . import metrics
from .access import Keyring
from .config import EventFile
from .domain.commands import MoveQuestion, PreparePoll, ReceiveQuestion, parse_command
from .domain.errors import CommandRefused, NoIdentity, NotFound, RateLimited
from .domain.events import QuestionChanged
from .domain.filters import RoomPolicy, WordFilter
from .domain.idempotency import parse_key, scoped_key
from .domain.replies import command_reply
from .domain.roles import Actor, Role
from .domain.room import RoomSettings, RoomState
from .engines.engine import Engine
from .hub import Hub
from .media import MediaService
from .ratelimit import RateLimiter
from .settings import ServeSettings


def room_policies(event_file: EventFile) -> dict[str, RoomPolicy]:
    return {
        room.slug: RoomPolicy(word_filter=WordFilter.of([*event_file.event.blocked_words, *room.blocked_words]))
        for room in event_file.rooms
    }


def initial_states(event_file: EventFile) -> dict[str, RoomState]:
    """Each room as the event file sets it up before anyone has acted in it."""
    return {
        room.slug: RoomState(room.slug, RoomSettings(moderation=room.moderation, require_name=room.require_name))
        for room in event_file.rooms
    }


@dataclass
class Service:
    """What the transports share, built by the composition root (``cli.build_service``)."""

    settings: ServeSettings
    event_file: EventFile
    engine: Engine
    hub: Hub
    media: MediaService  # each room's video (live/media)
    keyring: Keyring
    secret: str
    limiter: RateLimiter = field(default_factory=RateLimiter)
    policies: dict[str, RoomPolicy] = field(init=False)

    def __post_init__(self) -> None:
        self.policies = room_policies(self.event_file)

    async def _receive_moved(
        self, from_room: str, command: MoveQuestion, actor: Actor, moved: QuestionChanged, key: str | None
    ) -> str | None:
        """The second half of a move, with the question as the move's own event recorded it (so an
        edit that landed just before is kept), in the status it had. Rooms are separate logs, so
        this is a second command: if it fails (storage unavailable), the question stays marked as
        moved and the error is raised. With the move's key, a retried move completes a second half
        that failed and answers one that was applied, instead of receiving the question twice."""
        question = moved.question.model_copy(update={"status": moved.previous_status, "moved_to": None})
        voters = tuple(self.engine.state(from_room).upvotes.get(question.id, ()))
        arriving = ReceiveQuestion(question=question, voters=voters, from_room=from_room)
        result = await self.engine.execute(
            command.to_room, arriving, actor, time.time(), self.policies[command.to_room], key
        )
        return result.created_id

    async def prepare_planned_polls(self) -> None:
        """Create the event file's planned polls as drafts, once per poll whatever restarts or
        processes follow (the domain remembers which planned ids it has created)."""
        organiser = Actor("organiser", None, frozenset({(Role.ADMIN, "*")}))
        for room in self.event_file.rooms:
            for number, planned in enumerate(room.polls, start=1):
                command = PreparePoll(planned_id=f"{room.slug}-{number}", **planned.model_dump())
                await self.engine.execute(room.slug, command, organiser, time.time(), self.policies[room.slug])

    def has_room(self, room_id: str) -> bool:
        return self.event_file.room(room_id) is not None

    async def run_command(
        self, room_id: str, actor: Actor, raw: object, idempotency_key: object = None
    ) -> dict[str, Any]:
        """Parse, limit, decide, store and publish one command; raises CommandRefused if refused,
        StorageUnavailable (not applied) or OutcomeUnknown (maybe applied: retry with the same
        key) past the engine's deadline. A key the room has applied answers as it did then."""
        if not self.has_room(room_id):
            raise NotFound(f"no room {room_id!r} in this event")
        if not actor.identified:  # a cookie-less client would be a new participant, a new vote, each time
            raise NoIdentity("open the room's page (or GET /api/me) first: it gives you your identity")
        command = parse_command(raw)
        client_key = parse_key(idempotency_key)
        key = None if client_key is None else scoped_key(actor.participant_id, command.type, client_key)
        if isinstance(command, MoveQuestion) and not self.has_room(command.to_room):
            raise NotFound(f"no room {command.to_room!r} in this event")
        started = time.monotonic()
        limited = not actor.has(Role.MODERATOR, room_id)  # moderators are never rate-limited
        if limited:
            wait = self.limiter.allow(actor.participant_id, command.type, started)
            if wait:
                raise RateLimited(math.ceil(wait))
        outcome = "refused"
        try:
            result = await self.engine.execute(room_id, command, actor, time.time(), self.policies[room_id], key)
            if isinstance(command, MoveQuestion) and result.events:
                moved = result.events[0].event
                assert isinstance(moved, QuestionChanged) and moved.action == "moved"
                received_key = None if key is None else f"{key}/received"
                result.created_id = await self._receive_moved(room_id, command, actor, moved, received_key)
            outcome = "ok"
        except CommandRefused:
            if limited:
                self.limiter.refund(actor.participant_id, command.type)
            raise
        finally:
            metrics.COMMANDS.labels(command=command.type, outcome=outcome).observe(time.monotonic() - started)
        own = [stored.event for stored in result.events]
        reply = command_reply(command, own, self.engine.state(room_id), actor.participant_id, result.created_id)
        return {"offset": result.events[-1].offset if result.events else None, **reply}
