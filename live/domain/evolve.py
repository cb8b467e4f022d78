"""Events applied to a room's state. Replicas in other processes run exactly this."""

from __future__ import annotations

from dataclasses import replace

from .events import (
    AnswerModerated,
    Event,
    PollChanged,
    PollDeleted,
    PollVoted,
    QuestionChanged,
    QuestionVoted,
    SettingsChanged,
)
from .polls import Ballot, PollKind
from .room import RoomState


def evolve(state: RoomState, event: Event) -> None:
    match event:
        case QuestionChanged(question=question):
            state.questions[question.id] = question
            if event.voters is not None:
                state.upvotes[question.id] = set(event.voters)
        case QuestionVoted():
            voters = state.voters_to_change(event.question_id)
            if event.voted:
                voters.add(event.participant_id)
            else:
                voters.discard(event.participant_id)
            question = state.questions[event.question_id]
            state.questions[question.id] = question.model_copy(update={"votes": event.votes})
        case SettingsChanged(settings=settings):
            state.settings = settings
        case PollChanged(poll=poll):
            state.polls[poll.id] = poll
        case PollDeleted(poll_id=poll_id):
            state.remove_poll(poll_id)
        case PollVoted():
            poll = state.polls[event.poll_id]
            ballot = Ballot(event.choices, event.at, event.name, None)
            _replace_ballot(state, event.poll_id, event.participant_id, ballot, poll.kind)
            state.polls[poll.id] = poll.model_copy(update={"ballots": event.ballots})
        case AnswerModerated():
            poll = state.polls[event.poll_id]
            previous = state.ballots[event.poll_id][event.participant_id]
            _replace_ballot(state, poll.id, event.participant_id, replace(previous, approved=event.approved), poll.kind)


def _replace_ballot(state: RoomState, poll_id: str, participant_id: str, ballot: Ballot, kind: PollKind) -> None:
    """Swap a participant's ballot, keeping the poll's counts equal to its counted ballots."""
    ballots = state.ballots_to_change(poll_id)
    counts = state.counts_to_change(poll_id)
    previous = ballots.get(participant_id)
    if previous is not None and previous.counts(kind):
        for choice in previous.choices:
            counts[choice] -= 1
            if counts[choice] <= 0:
                del counts[choice]
    ballots[participant_id] = ballot
    if ballot.counts(kind):
        counts.update(ballot.choices)
