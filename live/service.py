"""The running service as the transports see it: the event, an engine, the hub, the keys.

HTTP and WebSocket handlers both run commands through ``Service.run_command``, so parsing, rate
limits, role checks (in the domain) and metrics happen in one place whatever the transport.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from . import metrics, protocol
from .access import Keyring
from .clock import AgendaClock
from .config import EventFile
from .domain.commands import MoveQuestion, PreparePoll, ReceiveQuestion, Upvote, VotePoll, parse_command
from .domain.errors import CommandRefused, NoIdentity, NotFound, RateLimited
from .domain.events import QuestionChanged
from .domain.filters import RoomPolicy, WordFilter
from .domain.idempotency import parse_key, scoped_key
from .domain.replies import command_reply
from .domain.roles import Actor, Role
from .domain.room import RoomSettings, RoomState
from .engines.batch import CommandResult
from .engines.engine import Engine
from .hub import Hub
from .media import MediaService
from .ratelimit import AddressLimits, RateLimiter, VenueNetwork
from .sampler import AudienceSampler
from .settings import ServeSettings
from .vote_watch import VoteWatch


def room_policies(event_file: EventFile) -> dict[str, RoomPolicy]:
    return {
        room.slug: RoomPolicy(word_filter=WordFilter.of([*event_file.event.blocked_words, *room.blocked_words]))
        for room in event_file.rooms
    }


def address_limits(event_file: EventFile) -> AddressLimits:
    """Per-address limits, scaled up inside the event file's venue networks."""
    return AddressLimits(
        VenueNetwork.for_phones(network, venue.phones)
        for venue in event_file.venue_networks
        for network in venue.ip_networks()
    )


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
    limiter: RateLimiter = field(default_factory=RateLimiter)  # per participant
    policies: dict[str, RoomPolicy] = field(init=False)
    addresses: AddressLimits = field(init=False)  # per client address (identity.client_address)
    vote_watch: VoteWatch = field(default_factory=VoteWatch)
    sampler: AudienceSampler | None = None  # each room's audience, stored for the report (live/sampler.py)
    clock: AgendaClock = field(init=False)  # the agenda's "now" (live/clock.py: --agenda-now)

    def __post_init__(self) -> None:
        self.policies = room_policies(self.event_file)
        self.addresses = address_limits(self.event_file)
        self.clock = AgendaClock.starting_at(self.settings.agenda_now, self.event_file.zone)
        self._room_ids = frozenset(room.slug for room in self.event_file.rooms)  # asked twice per command

    def _take_allowance(self, actor: Actor, address: str | None, kind: str, now: float) -> None:
        """Count the command against its participant and its address; raises RateLimited (and
        counts nothing) if either is spent."""
        wait = self.limiter.allow(actor.participant_id, kind, now)
        if wait:
            raise RateLimited(math.ceil(wait))
        wait = self.addresses.allow(address, kind, now) if address is not None else 0.0
        if wait:
            self.limiter.refund(actor.participant_id, kind)
            raise RateLimited(math.ceil(wait))

    def _give_back_allowance(self, actor: Actor, address: str | None, kind: str) -> None:
        self.limiter.refund(actor.participant_id, kind)
        if address is not None:
            self.addresses.refund(address, kind)

    def _watch_vote(self, room_id: str, command: Upvote | VotePoll, address: str, result: CommandResult) -> None:
        """Tell the room's moderators when a question's or poll's recent votes come mostly from
        one address (live/vote_watch.py); a vote that changed nothing is not counted."""
        if not result.events or (isinstance(command, Upvote) and not command.voted):
            return
        if isinstance(command, Upvote):
            target, target_id = "question", command.question_id
        else:
            target, target_id = "poll", command.poll_id
        counted = None if self.addresses.in_venue_network(address) else self.addresses.key(address)
        alert = self.vote_watch.record(room_id, target, target_id, counted, time.time())
        if alert is not None:
            message = protocol.vote_alert(
                alert.target, alert.target_id, alert.from_one_address, alert.recent_votes, alert.seconds, alert.at
            )
            self.hub.publish_to_moderators(room_id, message, key=f"vote_alert:{target}:{target_id}")

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
        return room_id in self._room_ids

    async def run_command(
        self,
        room_id: str,
        actor: Actor,
        raw: object,
        idempotency_key: object = None,
        address: str | None = None,
    ) -> dict[str, Any]:
        """Parse, limit, decide, store and publish one command; raises CommandRefused if refused,
        StorageUnavailable (not applied) or OutcomeUnknown (maybe applied: retry with the same
        key) past the engine's deadline. A key the room has applied answers as it did then.

        ``address`` is the client's (identity.client_address): the transports always give it;
        without one (the service's own commands, tests) only the participant's limits apply."""
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
            self._take_allowance(actor, address, command.type, started)
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
                self._give_back_allowance(actor, address, command.type)
            raise
        finally:
            metrics.command_timer(command.type, outcome).observe(time.monotonic() - started)
        if limited and address is not None and isinstance(command, Upvote | VotePoll):
            self._watch_vote(room_id, command, address, result)
        own = [stored.event for stored in result.events]
        reply = command_reply(command, own, self.engine.state(room_id), actor.participant_id, result.created_id)
        return {"offset": result.events[-1].offset if result.events else None, **reply}
