"""Commands become events: the room's rules, as pure functions of (state, command, context).

``decide`` checks the actor's role and hands the command to its rule (questions in
``question_rules``, polls in ``poll_rules``, the room's settings in ``room_rules``); it reads the
state and never changes it, and ``evolve`` applies the events. Engines run the two separately, so
that a batch of commands is decided on one copy of the state and stored in one write; ``apply``
does both for one command, for tests and tools that hold a state of their own. No clock, no
randomness: the context brings ``now`` and new ids.
"""

from __future__ import annotations

from typing import assert_never

from . import commands as c
from .context import Context
from .errors import NotAllowed
from .events import Event, PollChanged, PollDeleted, SettingsChanged
from .evolve import evolve
from .poll_rules import change_poll, create_poll, moderate_answer, moderate_word, prepare_poll, vote_poll
from .question_rules import (
    ask_question,
    edit_my_question,
    edit_question,
    highlight_question,
    label_question,
    merge_questions,
    moderate_question,
    moderate_questions,
    move_question,
    receive_question,
    reply_to_question,
    star_question,
    upvote,
    withdraw_question,
)
from .room import RoomState, screen_shows
from .room_rules import set_moderation, set_presenter_note, set_screen_scene

__all__ = ["AnyCommand", "Context", "apply", "decide"]

AnyCommand = c.Command | c.ReceiveQuestion | c.PreparePoll


def apply(state: RoomState, command: AnyCommand, context: Context) -> list[Event]:
    """Check, decide and apply one command; the state is unchanged if it is refused."""
    events = decide(state, command, context)
    for event in events:
        evolve(state, event)
    return events


def decide(state: RoomState, command: AnyCommand, context: Context) -> list[Event]:
    """The events a command leads to, or a CommandRefused; with them, when they change what the
    venue screen shows, the settings that say so (the screen is told, never left to work it out)."""
    events = _decide_rule(state, command, context)
    if not any(isinstance(event, SCREEN_INPUTS) for event in events):
        return events  # questions asked, votes, ballots: the hot path pays nothing here
    after = state.clone()
    for event in events:
        evolve(after, event)
    shown = screen_shows(after)
    if shown == after.settings.shown:
        return events
    settings = after.settings.model_copy(update={"shown": shown})
    last = max((i for i, event in enumerate(events) if isinstance(event, SettingsChanged)), default=None)
    if last is not None:  # the settings the command changed carry it: one message, not two
        return [*events[:last], events[last].model_copy(update={"settings": settings}), *events[last + 1 :]]
    return [*events, SettingsChanged(settings=settings, action="screen_changed", by=None)]


# the events that can change what the screen shows: the settings (scene, highlight, active poll)
# and a poll's status
SCREEN_INPUTS = (SettingsChanged, PollChanged, PollDeleted)


def _decide_rule(state: RoomState, command: AnyCommand, context: Context) -> list[Event]:
    """Every command has its case here, and mypy checks that none is missing (``assert_never``)."""
    if not context.actor.has(command.required_role, state.room_id):
        raise NotAllowed(f"{command.type} needs the {command.required_role.value} role in this room")
    match command:
        case c.AskQuestion():
            return ask_question(state, command, context)
        case c.EditMyQuestion():
            return edit_my_question(state, command, context)
        case c.WithdrawQuestion():
            return withdraw_question(state, command, context)
        case c.Upvote():
            return upvote(state, command, context)
        case c.ModerateQuestion():
            return moderate_question(state, command, context)
        case c.ModerateQuestions():
            return moderate_questions(state, command, context)
        case c.MergeQuestions():
            return merge_questions(state, command, context)
        case c.MoveQuestion():
            return move_question(state, command, context)
        case c.ReceiveQuestion():
            return receive_question(state, command, context)
        case c.HighlightQuestion():
            return highlight_question(state, command, context)
        case c.EditQuestion():
            return edit_question(state, command, context)
        case c.StarQuestion():
            return star_question(state, command, context)
        case c.ReplyToQuestion():
            return reply_to_question(state, command, context)
        case c.LabelQuestion():
            return label_question(state, command, context)
        case c.PreparePoll():  # before CreatePoll, which it extends
            return prepare_poll(state, command, context)
        case c.CreatePoll():
            return create_poll(state, command, context)
        case c.ChangePoll():
            return change_poll(state, command, context)
        case c.VotePoll():
            return vote_poll(state, command, context)
        case c.ModerateAnswer():
            return moderate_answer(state, command, context)
        case c.ModerateWord():
            return moderate_word(state, command, context)
        case c.SetModeration():
            return set_moderation(state, command, context)
        case c.SetScreenScene():
            return set_screen_scene(state, command, context)
        case c.SetPresenterNote():
            return set_presenter_note(state, command, context)
        case _:
            assert_never(command)
