"""A batch of commands for one room, decided together (group commit, see engine.py).

Each command is decided on the state its predecessors in the batch left, and each caller keeps
its own outcome: its events, the id of what it created, or why it was refused. A command whose
idempotency key the room has already applied (or that an earlier command of the batch carries)
is not decided again: it is answered with that command's outcome.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..domain.decide import AnyCommand, Context, decide
from ..domain.errors import CommandRefused
from ..domain.events import Event, PollChanged, QuestionChanged
from ..domain.evolve import evolve
from ..domain.filters import RoomPolicy
from ..domain.roles import Actor
from ..domain.room import RoomState
from .storage import StoredEvent

log = logging.getLogger(__name__)

CREATING_ACTIONS = ("asked", "moved_in")  # a question's actions that made it, in the room they are in


def new_id() -> str:
    """16 hex digits (64 bits): safe in URLs, file names and CSV cells, and cheap (one is made
    for every command). URL-safe base64 ids began with "-" one time in 64, which a spreadsheet
    reads as a formula, so the CSV export quoted them and the exported id no longer matched."""
    return secrets.token_hex(8)


@dataclass
class CommandResult:
    events: list[StoredEvent]
    created_id: str | None = None  # the id of what the command created (a question, a poll)
    replayed: bool = False  # its idempotency key was applied before: these are that command's events

    @classmethod
    def of_applied(cls, events: Sequence[StoredEvent]) -> CommandResult:
        """A command applied earlier, answered again from its stored events: what it created is
        the question or poll its events made."""
        created = None
        for stored in events:
            event = stored.event
            if isinstance(event, QuestionChanged) and event.action in CREATING_ACTIONS:
                created = event.question.id
            elif isinstance(event, PollChanged) and event.action == "created":
                created = event.poll.id
            if created is not None:
                break
        return cls(list(events), created, replayed=True)


@dataclass
class Waiting:
    """A command waiting for its room's committer, and the caller waiting for its outcome."""

    command: AnyCommand
    actor: Actor
    now: float
    policy: RoomPolicy
    outcome: asyncio.Future[CommandResult]
    key: str | None = None  # scoped idempotency key (domain/idempotency.py)
    events: list[Event] = field(default_factory=list)
    created_id: str | None = None
    refused: BaseException | None = None
    result: CommandResult | None = None  # its outcome, once decided (and stored, when it changed something)
    same_as: Waiting | None = None  # an earlier command of the batch with the same key: answered as it is

    def settle(self, result: CommandResult | None = None, error: BaseException | None = None) -> None:
        if self.outcome.done():  # the caller gave up waiting (its client went away)
            return
        if error is not None:
            self.outcome.set_exception(error)
        else:
            assert result is not None
            self.outcome.set_result(result)

    def answer(self) -> None:
        """Give the caller the outcome decided for it (or for the command it repeats)."""
        source = self.same_as or self
        if source.refused is not None:
            self.settle(error=source.refused)
        else:
            self.settle(source.result or CommandResult([]))


KnownOutcome = Callable[[str], Sequence[StoredEvent] | None]


def decide_batch(state: RoomState, batch: list[Waiting], applied: KnownOutcome) -> list[Event]:
    """Each command decided on the state its predecessors in the batch left, without changing
    ``state``: a lone command is decided on it directly, a batch on a copy. ``applied`` gives the
    stored events of a key the room has already applied."""
    scratch = state if len(batch) == 1 else state.clone()
    events: list[Event] = []
    first_with: dict[str, Waiting] = {}
    for waiting in batch:
        context = Context(actor=waiting.actor, now=waiting.now, new_id=new_id(), policy=waiting.policy)
        waiting.refused, waiting.events, waiting.created_id = None, [], context.new_id
        waiting.result, waiting.same_as = None, None
        if waiting.key is not None:
            earlier = applied(waiting.key)
            if earlier is not None:
                waiting.result = CommandResult.of_applied(earlier)
                continue
            if waiting.key in first_with:
                waiting.same_as = first_with[waiting.key]
                continue
            first_with[waiting.key] = waiting
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
