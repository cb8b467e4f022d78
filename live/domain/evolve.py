"""Events applied to a room's state. Replicas in other processes run exactly this."""

from __future__ import annotations

from collections import Counter

from .events import (
    Event,
    PollChanged,
    PollDeleted,
    PollVoted,
    QuestionChanged,
    QuestionVoted,
    SettingsChanged,
)
from .room import RoomState


def evolve(state: RoomState, event: Event) -> None:
    match event:
        case QuestionChanged(question=question):
            state.questions[question.id] = question
            if event.voters is not None:
                state.upvotes[question.id] = set(event.voters)
        case QuestionVoted():
            voters = state.upvotes.setdefault(event.question_id, set())
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
            state.polls.pop(poll_id, None)
            state.ballots.pop(poll_id, None)
            state.counts.pop(poll_id, None)
        case PollVoted():
            ballots = state.ballots.setdefault(event.poll_id, {})
            counts = state.counts.setdefault(event.poll_id, Counter())
            for choice in ballots.get(event.participant_id, ()):
                counts[choice] -= 1
                if counts[choice] <= 0:
                    del counts[choice]
            ballots[event.participant_id] = event.choices
            counts.update(event.choices)
            poll = state.polls[event.poll_id]
            state.polls[poll.id] = poll.model_copy(update={"ballots": event.ballots})
