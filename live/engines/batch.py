"""A batch of commands for one room, decided together (group commit, see engine.py).

Each command is decided on the state its predecessors in the batch left, and each caller keeps
its own outcome: its events, the id of what it created, or why it was refused.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field

from ..domain.decide import AnyCommand, Context, decide
from ..domain.errors import CommandRefused
from ..domain.events import Event
from ..domain.evolve import evolve
from ..domain.filters import RoomPolicy
from ..domain.roles import Actor
from ..domain.room import RoomState
from .storage import StoredEvent

log = logging.getLogger(__name__)


def new_id() -> str:
    """16 hex digits (64 bits): safe in URLs, file names and CSV cells, and cheap (one is made
    for every command). URL-safe base64 ids began with "-" one time in 64, which a spreadsheet
    reads as a formula, so the CSV export quoted them and the exported id no longer matched."""
    return secrets.token_hex(8)


@dataclass
class CommandResult:
    events: list[StoredEvent]
    created_id: str | None = None  # the id of what the command created (a question, a poll)


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


def decide_batch(state: RoomState, batch: list[Waiting]) -> list[Event]:
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
