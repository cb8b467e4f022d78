"""The rules for polls: creating (by a moderator, or planned in the event file), opening,
closing, revealing and deleting them, voting, and moderating open-text answers and word-cloud
words (the word filter holds what it catches for a moderator, as it does questions). Pure functions
of (state, command, context) that return the events they decide."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from . import commands as c
from . import reasons
from .context import Context
from .errors import Conflict, InvalidInput, NotFound
from .events import AnswerModerated, Event, PollChanged, PollDeleted, PollVoted, SettingsChanged, WordModerated
from .polls import (
    MAX_POLL_QUESTION_LENGTH,
    Poll,
    PollKind,
    PollStatus,
    clean_choices,
    clean_correct,
    clean_options,
    clean_series,
    cloud_word,
)
from .polls import tally as poll_tally
from .quiz import leaderboard, standings
from .room import RoomState
from .text import clean_text


def _poll(state: RoomState, poll_id: str) -> Poll:
    poll = state.polls.get(poll_id)
    if poll is None:
        raise NotFound("no such poll in this room")
    return poll


def _series_leaderboard(state: RoomState, after: Poll) -> list[dict[str, Any]]:
    """A quiz series' leaderboard once this poll is as ``after`` says (its reveal may count it)."""
    if after.kind is not PollKind.QUIZ:
        return []
    polls = [after if p.id == after.id else p for p in state.polls.values()]
    return leaderboard(standings(polls, state.ballots, after.series))


def _poll_changed(state: RoomState, after: Poll, action: str, context: Context) -> PollChanged:
    """A poll's new state with its results as they stand, so the event alone can be shown."""
    return PollChanged(
        standings=_series_leaderboard(state, after),
        poll=after,
        tally=state.poll_tally(after.id),
        leaders=state.poll_leaders(after.id),
        answers=state.poll_answers(after.id) if after.kind is PollKind.OPEN_TEXT else [],
        held_words=state.poll_held_words(after.id) if after.kind is PollKind.WORD_CLOUD else [],
        action=action,
        by=context.actor.participant_id,
    )


def _closed(state: RoomState, poll: Poll, context: Context) -> PollChanged:
    after = poll.model_copy(update={"status": PollStatus.CLOSED, "closed_at": context.now})
    return _poll_changed(state, after, "closed", context)


def create_poll(state: RoomState, command: c.CreatePoll, context: Context) -> list[Event]:
    options = clean_options(command.kind, command.options)
    poll = Poll(
        id=context.new_id,
        kind=command.kind,
        question=clean_text(command.question, field="poll question", max_length=MAX_POLL_QUESTION_LENGTH),
        options=options,
        correct=clean_correct(command.kind, options, command.correct),
        series=clean_series(command.kind, command.series),
        visibility=command.visibility,
        created_at=context.now,
    )
    return [
        PollChanged(
            poll=poll,
            tally=poll_tally(poll, Counter()),
            action="created",
            by=context.actor.participant_id,
        )
    ]


def prepare_poll(state: RoomState, command: c.PreparePoll, context: Context) -> list[Event]:
    if command.planned_id in state.settings.prepared_polls:
        return []  # created before (and perhaps deleted since, which is the moderator's choice)
    events = create_poll(state, command, context)
    prepared = (*state.settings.prepared_polls, command.planned_id)
    settings = state.settings.model_copy(update={"prepared_polls": prepared})
    return [*events, SettingsChanged(settings=settings, action="poll_prepared", by=None)]


def open_poll(state: RoomState, poll: Poll, context: Context) -> list[Event]:
    if poll.status is PollStatus.OPEN:
        return []
    after = poll.model_copy(
        update={
            "status": PollStatus.OPEN,
            "opened_at": context.now,
            "revealed": False,  # reopened: its results (a quiz's answer) are hidden again until revealed
            "closed_at": None,
        }
    )
    settings = state.settings.model_copy(update={"active_poll_id": poll.id})
    # One poll at a time: the room shows one, so another left open would take votes unseen.
    closing = [_closed(state, other, context) for other in state.polls.values() if other.status is PollStatus.OPEN]
    return [
        *closing,
        _poll_changed(state, after, "opened", context),
        SettingsChanged(settings=settings, action="poll_shown", by=context.actor.participant_id),
    ]


def close_poll(state: RoomState, poll: Poll, context: Context) -> list[Event]:
    if poll.status is not PollStatus.OPEN:
        raise Conflict(f"the poll is {poll.status.value}, not open")
    return [_closed(state, poll, context)]


def reveal_poll(state: RoomState, poll: Poll, context: Context) -> list[Event]:
    if poll.status is PollStatus.DRAFT:
        raise Conflict(reasons.REVEAL_BEFORE_OPEN)
    if poll.revealed:
        return []
    return [_poll_changed(state, poll.model_copy(update={"revealed": True}), "revealed", context)]


def delete_poll(state: RoomState, poll: Poll, context: Context) -> list[Event]:
    by = context.actor.participant_id
    events: list[Event] = [PollDeleted(poll_id=poll.id, was_public=poll.status.is_public, by=by)]
    if state.settings.active_poll_id == poll.id:  # off the pages first, then gone
        settings = state.settings.model_copy(update={"active_poll_id": None})
        events.insert(0, SettingsChanged(settings=settings, action="poll_hidden", by=by))
    return events


POLL_ACTIONS: dict[str, Callable[[RoomState, Poll, Context], list[Event]]] = {
    "open": open_poll,
    "close": close_poll,
    "reveal": reveal_poll,
    "delete": delete_poll,
}


def change_poll(state: RoomState, command: c.ChangePoll, context: Context) -> list[Event]:
    action = POLL_ACTIONS.get(command.action)
    if action is None:  # parsing refuses it already; a command built in code is refused here too
        raise InvalidInput(f"unknown poll action {command.action!r}")
    return action(state, _poll(state, command.poll_id), context)


def vote_poll(state: RoomState, command: c.VotePoll, context: Context) -> list[Event]:
    poll = state.polls.get(command.poll_id)
    if poll is None or not poll.status.is_public:
        raise NotFound("no such poll in this room")
    if poll.status is not PollStatus.OPEN:
        raise Conflict(reasons.POLL_CLOSED)
    if poll.kind is PollKind.QUIZ and poll.revealed:  # revealed while open: the answer is on every page
        raise Conflict(reasons.QUIZ_REVEALED)
    choices = clean_choices(poll, command.choices)
    who = context.actor.participant_id
    held = held_choices(poll, choices, context)
    previous = state.ballots.get(poll.id, {}).get(who)
    if previous is not None and previous.choices == choices and previous.held == held:
        return []
    name = context.actor.display_name
    if name and context.policy.word_filter.matches(name):
        name = None  # a quiz's leaderboard on the venue screen shows it: anonymous instead
    # No tally here: a vote is the hot path of a vote storm, and a word cloud's tally is a sort of
    # every distinct word. Pages get tallies from the state, conflated, a few times a second.
    return [
        PollVoted(
            poll_id=poll.id,
            kind=poll.kind,
            participant_id=who,
            choices=choices,
            at=context.now,
            name=name,
            ballots=poll.ballots + (0 if previous else 1),
            held=held,
        )
    ]


def held_choices(poll: Poll, choices: tuple[str, ...], context: Context) -> tuple[str, ...]:
    """What of a ballot waits for a moderator: a word cloud's words the word filter caught (unless
    a moderator allowed them) or a moderator rejected; an open-text answer the filter caught (it
    awaits a moderator anyway, and is flagged). Choice polls hold nothing: their options are the
    moderator's own."""
    blocked = context.policy.word_filter.matches
    if poll.kind is PollKind.WORD_CLOUD:
        return tuple(word for word in choices if poll.holds(word, blocked(word)))
    if poll.kind is PollKind.OPEN_TEXT and blocked(choices[0]):
        return choices
    return ()


def moderate_answer(state: RoomState, command: c.ModerateAnswer, context: Context) -> list[Event]:
    poll = state.polls.get(command.poll_id)
    if poll is None or poll.kind is not PollKind.OPEN_TEXT:
        raise NotFound("no such open-text poll in this room")
    ballot = state.ballots.get(poll.id, {}).get(command.participant_id)
    if ballot is None:
        raise NotFound("no such answer in this poll")
    approved = command.action == "approve"
    if ballot.approved is approved:
        return []
    counts = Counter(state.counts.get(poll.id, Counter()))
    if approved:
        counts.update(ballot.choices)
    elif ballot.approved:
        counts.subtract(ballot.choices)
    return [
        AnswerModerated(
            poll_id=poll.id,
            participant_id=command.participant_id,
            text=ballot.choices[0],
            approved=approved,
            tally=poll_tally(poll, +counts),
            by=context.actor.participant_id,
        )
    ]


def moderate_word(state: RoomState, command: c.ModerateWord, context: Context) -> list[Event]:
    poll = state.polls.get(command.poll_id)
    if poll is None or poll.kind is not PollKind.WORD_CLOUD:
        raise NotFound("no such word-cloud poll in this room")
    word = cloud_word(command.word)  # as the ballots hold it
    if not word:
        raise InvalidInput("the word is empty")
    allowed = command.action == "allow"
    decided, undone = (
        (poll.allowed_words, poll.rejected_words) if allowed else (poll.rejected_words, poll.allowed_words)
    )
    if word in decided:
        return []
    decided, undone = (*decided, word), tuple(w for w in undone if w != word)  # allowing undoes a rejection
    after = poll.model_copy(
        update={"allowed_words": decided, "rejected_words": undone}
        if allowed
        else {"rejected_words": decided, "allowed_words": undone}
    )
    return [WordModerated(poll=after, word=word, allowed=allowed, by=context.actor.participant_id)]
