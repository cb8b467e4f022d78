"""Driving a room's rules as plain state transitions, the one way every domain test does it: a
command from an actor at a moment (with the room's policy) goes through ``parse_command`` and
``apply``, exactly as the engines call them, with no engine, socket or clock."""

from __future__ import annotations

from itertools import count
from typing import Any

from live.domain.commands import parse_command
from live.domain.decide import Context, apply
from live.domain.filters import RoomPolicy
from live.domain.questions import Question
from live.domain.roles import Actor, Role
from live.domain.room import RoomState

ANN = Actor("ann", "Ann")
MOD = Actor("mod", None, frozenset({(Role.MODERATOR, "main")}))
NOW = 100.0  # the moment commands happen at, unless a test says otherwise
OPENED_AT = 1000.0  # when open_poll opens a poll
VOTED_AT = 1001.0  # when vote votes, unless a test says otherwise

_new_ids = count()


def do(
    state: RoomState, actor: Actor, command: dict[str, Any], now: float = NOW, policy: RoomPolicy | None = None
) -> list[Any]:
    """Apply one command as the engines would; returns its events, raises what it is refused with."""
    context = Context(actor, now, f"id{next(_new_ids)}", policy or RoomPolicy())
    return apply(state, parse_command(command), context)


def ask(
    state: RoomState, actor: Actor = ANN, text: str = "Why?", policy: RoomPolicy | None = None, **extra: Any
) -> Question:
    """Ask a question; returns it as the room now holds it (pending or live, flagged or not)."""
    (event,) = do(state, actor, {"type": "ask_question", "text": text, **extra}, policy=policy)
    question: Question = event.question
    return question


def open_poll(state: RoomState, **spec: Any) -> str:
    """Create a poll from ``spec`` (its kind, options...) and open it at OPENED_AT; returns its id."""
    (created,) = do(state, MOD, {"type": "create_poll", "question": "?", **spec})
    do(state, MOD, {"type": "change_poll", "poll_id": created.poll.id, "action": "open"}, now=OPENED_AT)
    return str(created.poll.id)


def vote(
    state: RoomState, who: str, poll_id: str, choices: list[str], now: float = VOTED_AT, name: str | None = None
) -> list[Any]:
    """Participant ``who`` (named ``name``, if given) votes ``choices`` in a poll."""
    return do(state, Actor(who, name), {"type": "vote_poll", "poll_id": poll_id, "choices": choices}, now=now)
