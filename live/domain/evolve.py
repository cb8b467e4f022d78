"""Events applied to a room's state. Replicas in other processes run exactly this."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from .events import (
    AnswerModerated,
    Event,
    PollChanged,
    PollDeleted,
    PollVoted,
    PresenterNoteChanged,
    QuestionChanged,
    QuestionVoted,
    SettingsChanged,
    WordModerated,
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
            _note_highlight(state, event)
        case PresenterNoteChanged(note=note):
            state.settings = state.settings.model_copy(update={"presenter_note": note})
        case PollChanged(poll=poll):
            state.polls[poll.id] = poll
        case PollDeleted(poll_id=poll_id):
            state.remove_poll(poll_id)
        case PollVoted():
            poll = state.polls[event.poll_id]
            ballot = Ballot(event.choices, event.at, event.name, None, event.held)
            _replace_ballot(state, event.poll_id, event.participant_id, ballot, poll.kind)
            state.polls[poll.id] = poll.model_copy(update={"ballots": event.ballots})
        case AnswerModerated():
            poll = state.polls[event.poll_id]
            previous = state.ballots[event.poll_id][event.participant_id]
            _replace_ballot(state, poll.id, event.participant_id, replace(previous, approved=event.approved), poll.kind)
        case WordModerated(poll=poll, word=word):
            state.polls[poll.id] = poll
            for who, ballot in list(state.ballots.get(poll.id, {}).items()):  # a moderator's click: rare
                if word in ballot.choices and (word in ballot.held) == event.allowed:
                    held = tuple(w for w in ballot.held if w != word) if event.allowed else (*ballot.held, word)
                    _replace_ballot(state, poll.id, who, replace(ballot, held=held), poll.kind)


def _replace_ballot(state: RoomState, poll_id: str, participant_id: str, ballot: Ballot, kind: PollKind) -> None:
    """Swap a participant's ballot, keeping the poll's counts equal to its counted ballots (and a
    word cloud's held words equal to what its ballots hold)."""
    ballots = state.ballots_to_change(poll_id)
    previous = ballots.get(participant_id)
    _count(state.counts_to_change(poll_id), previous.counted(kind) if previous else (), ballot.counted(kind))
    if kind is PollKind.WORD_CLOUD and (ballot.held or (previous is not None and previous.held)):
        held = state.held_to_change(poll_id)
        _count(held, previous.held if previous else (), ballot.held)
        if not held:
            del state.held[poll_id]
    ballots[participant_id] = ballot


def _count(counts: Counter[str], removed: tuple[str, ...], added: tuple[str, ...]) -> None:
    for choice in removed:
        counts[choice] -= 1
        if counts[choice] <= 0:
            del counts[choice]
    counts.update(added)


def _note_highlight(state: RoomState, event: SettingsChanged) -> None:
    """The first time a question is highlighted is kept on it: its moment in the session's replay.
    The one place evolve reads an event's intent, so that the event stays what it was (the room's
    settings, which every page already follows) and events stored before ``at`` existed still load."""
    question = state.questions.get(event.settings.answering_question_id or "")
    first = question is not None and question.highlighted_at is None
    if event.action == "highlighted" and event.at is not None and question is not None and first:
        state.questions[question.id] = question.model_copy(update={"highlighted_at": event.at})
