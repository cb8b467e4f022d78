"""What each audience sees of an event: computed once per audience, never once per client.

An event projects to nothing (the audience may not see it), to a message delivered in order, or
to a counter update. Counters (upvotes, tallies) change many times a second, so the stream keeps
only the newest value per key and sends them together a few times a second.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .. import protocol
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
from .polls import Ballot, PollKind, answer_view, tally_earned_by_voting, tally_visible
from .questions import MODERATOR_ONLY_ACTIONS, Question, QuestionStatus
from .quiz import counted_polls, own_rank, rank_view
from .roles import Audience
from .room import RoomState


@dataclass(frozen=True)
class CounterUpdate:
    """A counter changed: "votes" carries the question's new count; for "polls" the value is
    None and the hub reads the poll's counters from the state when it flushes (``poll_counters``),
    once per flush however many ballots came in."""

    group: str
    key: str
    value: Any = None


Projection = dict[str, Any] | CounterUpdate | None


def project(event: Event, audience: Audience) -> Projection:
    """The message an event is for this audience (its envelope from live/protocol.py)."""
    moderator = audience is Audience.MODERATOR
    match event:
        case QuestionChanged(question=question):
            if moderator:
                return protocol.question(question.moderator_view(), event.action, event.by, moderator=True)
            if event.action in MODERATOR_ONLY_ACTIONS:
                return None  # a star or a label: nothing viewers can see changed
            if question.status.is_public:
                return protocol.question(question.public_view(), event.action)
            if event.was_public:
                return protocol.question_removed(question.id)
            return None
        case QuestionVoted():
            return CounterUpdate("votes", event.question_id, event.votes)
        case SettingsChanged(settings=settings):
            return protocol.settings(settings.public_view(), event.action)
        case PresenterNoteChanged(note=note):
            if audience is Audience.PUBLIC:
                return None  # private to the speaker and the moderators
            return protocol.presenter_note(note.view() if note else None, event.by, moderator=moderator)
        case PollChanged(poll=poll):
            if moderator:
                view = poll.moderator_view(event.tally, event.leaders, event.answers, standings=event.standings)
                return protocol.poll(view, event.action)
            if poll.status.is_public:
                return protocol.poll(poll.public_view(event.tally, event.leaders, event.standings), event.action)
            return None
        case PollDeleted():
            if moderator or event.was_public:
                return protocol.poll_removed(event.poll_id)
            return None
        case PollVoted():
            if moderator and event.kind is PollKind.OPEN_TEXT:
                answer = answer_view(
                    event.participant_id, Ballot(event.choices, event.at, event.name, None, event.held)
                )
                return protocol.poll_answer(event.poll_id, answer, ballots=event.ballots)
            return CounterUpdate("polls", event.poll_id)
        case AnswerModerated():
            if moderator:
                status = "approved" if event.approved else "dismissed"
                answer = {"participant_id": event.participant_id, "text": event.text, "status": status}
                return protocol.poll_answer(event.poll_id, answer, tally=event.tally)
            return CounterUpdate("polls", event.poll_id)
        case WordModerated():  # the cloud's tally changed, and for moderators its held words
            return CounterUpdate("polls", event.poll.id)
    raise TypeError(f"no projection for {type(event).__name__}")


def author_notice(event: Event) -> tuple[str, dict[str, Any]] | None:
    """What the asker alone must hear about their question while it is not public: that it
    was edited, dismissed, merged or moved. Other viewers hear nothing of it."""
    if not isinstance(event, QuestionChanged) or event.question.status.is_public or event.action == "asked":
        return None
    if event.action in MODERATOR_ONLY_ACTIONS:
        return None
    question = event.question
    return question.author_id, protocol.my_question(question.public_view(), event.action, question.moved_to)


def _visible_questions(state: RoomState, audience: Audience, participant_id: str | None) -> list[dict[str, Any]]:
    def visible(question: Question) -> bool:
        return audience is Audience.MODERATOR or question.status.is_public

    views = []
    for question in state.questions.values():
        if visible(question):
            views.append(question.moderator_view() if audience is Audience.MODERATOR else question.public_view())
        elif question.author_id == participant_id and question.status is QuestionStatus.PENDING:
            views.append(question.public_view())  # the asker sees their own question awaiting moderation
    return views


def _voted(state: RoomState, poll_id: str, participant_id: str | None) -> bool:
    return participant_id is not None and participant_id in state.ballots.get(poll_id, {})


def room_view(state: RoomState, audience: Audience) -> dict[str, Any]:
    """The room as an audience sees it: the same for everyone in it, so built once and shared."""
    moderator = audience is Audience.MODERATOR
    view: dict[str, Any] = {
        "settings": state.settings.public_view(),
        "questions": _visible_questions(state, audience, None),
        "polls": [
            state.poll_moderator_view(poll.id) if moderator else state.poll_public_view(poll.id)
            for poll in state.polls.values()
            if moderator or poll.status.is_public
        ],
    }
    if audience is not Audience.PUBLIC:
        note = state.settings.presenter_note
        view["presenter_note"] = note.view() if note else None
    return view


def personal_view(state: RoomState, audience: Audience, participant_id: str | None) -> dict[str, Any]:
    """What is the participant's own: their upvotes, ballots, questions (pending ones in full, for
    the public audience) and the after_vote tallies their votes earned. Cheap: no views of others."""
    mine: dict[str, Any] = {"upvoted": [], "ballots": {}, "questions": [], "tallies": {}, "pending": [], "quiz": {}}
    if participant_id is None:
        return mine
    mine["upvoted"] = [qid for qid, voters in state.upvotes.items() if participant_id in voters]
    mine["ballots"] = {
        poll_id: list(ballots[participant_id].choices)
        for poll_id, ballots in state.ballots.items()
        if participant_id in ballots
    }
    own = [q for q in state.questions.values() if q.author_id == participant_id]
    mine["questions"] = [q.id for q in own]
    if audience is Audience.PUBLIC:
        mine["pending"] = [q.public_view() for q in own if q.status is QuestionStatus.PENDING]
    mine["tallies"] = {
        poll.id: state.poll_tally(poll.id)
        for poll in state.polls.values()
        # as a viewer would earn it, whatever the audience: the API lists them for moderators too
        if tally_earned_by_voting(poll, Audience.PUBLIC) and _voted(state, poll.id, participant_id)
    }
    mine["quiz"] = quiz_ranks(state, participant_id)
    return mine


def quiz_ranks(state: RoomState, participant_id: str) -> dict[str, dict[str, Any]]:
    """The participant's own place in each quiz series they played (quiz.py), by series."""
    ranks = {}
    for series in {poll.series for poll in counted_polls(state.polls.values(), None)}:
        rank = own_rank(state.series_standings(series), participant_id, series)
        if rank is not None:
            ranks[series] = rank
    return ranks


def quiz_rank_notices(state: RoomState, event: Event, participants: Iterable[str]) -> list[tuple[str, dict[str, Any]]]:
    """What each player of a quiz series hears alone when a question's answer is revealed:
    their new place (the leaderboard shows only the top). For ``participants`` (the ones
    connected) only, from one table of the series' standings."""
    if not (isinstance(event, PollChanged) and event.poll.kind is PollKind.QUIZ and event.action == "revealed"):
        return []
    series = event.poll.series
    table = {s.participant_id: s for s in state.series_standings(series)}
    return [
        (who, protocol.my_quiz_rank(rank_view(table[who], series, len(table)))) for who in participants if who in table
    ]


def snapshot(state: RoomState, audience: Audience, participant_id: str | None) -> dict[str, Any]:
    """The room as this audience sees it, plus what is personal to the participant (the JSON API's
    shape: their own pending questions are listed among the questions too)."""
    view = room_view(state, audience)
    mine = personal_view(state, audience, participant_id)
    view["questions"] = view["questions"] + mine.pop("pending")
    view["mine"] = mine
    return view


def poll_counters(state: RoomState, poll_id: str, audience: Audience, voted: bool) -> dict[str, Any] | None:
    """A poll's ballots and tally as this audience may see them now (None: the poll is gone or a
    draft), and a word cloud's held words for moderators; ``voted``: the participant voted, which
    shows an after_vote poll's tally."""
    poll = state.polls.get(poll_id)
    if poll is None or not (audience is Audience.MODERATOR or poll.status.is_public):
        return None
    shown = tally_visible(poll, audience, voted)
    value: dict[str, Any] = {"ballots": poll.ballots, "tally": state.poll_tally(poll_id) if shown else None}
    if audience is Audience.MODERATOR and poll.kind is PollKind.WORD_CLOUD:
        value["held_words"] = state.poll_held_words(poll_id)  # what awaits their decision, as it grows
    return value


def counters(state: RoomState, audience: Audience, participant_id: str | None = None) -> dict[str, dict[str, Any]]:
    """Every counter's current value: what a resumed client gets instead of the votes it missed."""
    votes = {q.id: q.votes for q in state.questions.values() if audience is Audience.MODERATOR or q.status.is_public}
    polls = {}
    for poll_id in state.polls:
        value = poll_counters(state, poll_id, audience, _voted(state, poll_id, participant_id))
        if value is not None:
            polls[poll_id] = value
    return {"votes": votes, "polls": polls}
