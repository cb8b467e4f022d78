"""What the person who sent a command is told back, besides the offset: the count their upvote
now shows, the tally their vote earned, what they created, where a moved question went.

Built once the command's batch is applied (group commit: commands decided after this one in the
same batch are already in ``state``), so what this command itself did comes from its own events,
and only what the person may see now (a tally) is read from the state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import commands as c
from .events import Event, PollChanged, QuestionChanged, QuestionVoted
from .polls import tally_visible
from .roles import Audience
from .room import RoomState


def command_reply(
    command: c.Command, events: Sequence[Event], state: RoomState, participant_id: str, created_id: str | None
) -> dict[str, Any]:
    """``events``: the command's own; ``created_id``: for a move, the question's id in the room
    it went to."""
    match command:
        case c.MoveQuestion():
            return {"moved_to": {"room": command.to_room, "question_id": created_id}}
        case c.Upvote():  # the page learns the count it now shows, merges included
            return upvote_reply(command, events, state, participant_id)
        case c.VotePoll():
            return vote_reply(command, state, participant_id)
    return created_reply(events)


def upvote_reply(command: c.Upvote, events: Sequence[Event], state: RoomState, participant_id: str) -> dict[str, Any]:
    """From the command's own event: the same person's next tap, decided later in the batch, is
    already in the state and must not show in this reply."""
    for event in events:
        if isinstance(event, QuestionVoted):
            return {"votes": event.votes, "voted": event.voted}
    question = state.questions.get(command.question_id)  # nothing changed: the state says what this tap found
    voted = participant_id in state.upvotes.get(command.question_id, ())
    return {"votes": question.votes if question else 0, "voted": voted}


def vote_reply(command: c.VotePoll, state: RoomState, participant_id: str) -> dict[str, Any]:
    """The tally, when the voter may see it now (after_vote: their vote earned it), of any kind."""
    poll = state.polls.get(command.poll_id)  # a later command in the batch may have deleted it
    if poll is None:
        return {}
    voted = participant_id in state.ballots.get(poll.id, {})
    if not tally_visible(poll, Audience.PUBLIC, voted):
        return {}
    return {"tally": state.poll_tally(poll.id)}


def created_reply(events: Sequence[Event]) -> dict[str, Any]:
    """What the command created, as its own event recorded it: a question (its public view, whose
    status says whether it awaits moderation) or a poll's id."""
    for event in events:
        if isinstance(event, QuestionChanged) and event.action == "asked":
            return {"question": event.question.public_view()}
        if isinstance(event, PollChanged) and event.action == "created":
            return {"poll_id": event.poll.id}
    return {}
