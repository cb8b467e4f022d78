"""What each audience sees of an event: computed once per audience, never once per client.

An event projects to nothing (the audience may not see it), to a message delivered in order, or
to a counter update. Counters (upvotes, tallies) change many times a second, so the stream keeps
only the newest value per key and sends them together a few times a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .events import (
    Event,
    PollChanged,
    PollDeleted,
    PollVoted,
    QuestionChanged,
    QuestionVoted,
    SettingsChanged,
)
from .questions import Question
from .roles import Audience
from .room import RoomState


@dataclass(frozen=True)
class CounterUpdate:
    """The newest value of one counter; ``group`` is "votes" (per question) or "polls"."""

    group: str
    key: str
    value: Any


Projection = dict[str, Any] | CounterUpdate | None


def project(event: Event, audience: Audience) -> Projection:
    moderator = audience is Audience.MODERATOR
    match event:
        case QuestionChanged(question=question):
            if moderator:
                return {
                    "type": "question",
                    "question": question.moderator_view(),
                    "action": event.action,
                    "by": event.by,
                }
            if question.status.is_public:
                return {
                    "type": "question",
                    "question": question.public_view(),
                    "action": event.action,
                }
            if event.was_public:
                return {"type": "question_removed", "question_id": question.id}
            return None
        case QuestionVoted():
            return CounterUpdate("votes", event.question_id, event.votes)
        case SettingsChanged(settings=settings):
            return {
                "type": "settings",
                "settings": settings.public_view(),
                "action": event.action,
            }
        case PollChanged(poll=poll):
            if moderator:
                return {
                    "type": "poll",
                    "poll": poll.moderator_view(event.tally),
                    "action": event.action,
                }
            if poll.status.is_public:
                return {
                    "type": "poll",
                    "poll": poll.public_view(event.tally),
                    "action": event.action,
                }
            return None
        case PollDeleted():
            if moderator or event.was_public:
                return {"type": "poll_removed", "poll_id": event.poll_id}
            return None
        case PollVoted():
            visible = moderator or event.tally_is_public
            return CounterUpdate(
                "polls",
                event.poll_id,
                {"ballots": event.ballots, "tally": event.tally if visible else None},
            )
    raise TypeError(f"no projection for {type(event).__name__}")


def _visible_questions(state: RoomState, audience: Audience, participant_id: str | None) -> list[dict[str, Any]]:
    def visible(question: Question) -> bool:
        return audience is Audience.MODERATOR or question.status.is_public

    views = []
    for question in state.questions.values():
        if visible(question):
            views.append(question.moderator_view() if audience is Audience.MODERATOR else question.public_view())
        elif question.author_id == participant_id and question.status.value == "pending":
            views.append(question.public_view())  # the asker sees their own question awaiting moderation
    return views


def snapshot(state: RoomState, audience: Audience, participant_id: str | None) -> dict[str, Any]:
    """The room as this audience may see it, plus what is personal to the participant."""
    moderator = audience is Audience.MODERATOR
    polls = [
        poll.moderator_view(state.poll_tally(poll.id)) if moderator else poll.public_view(state.poll_tally(poll.id))
        for poll in state.polls.values()
        if moderator or poll.status.is_public
    ]
    mine: dict[str, Any] = {"upvoted": [], "ballots": {}, "questions": []}
    if participant_id is not None:
        mine["upvoted"] = [qid for qid, voters in state.upvotes.items() if participant_id in voters]
        mine["ballots"] = {
            poll_id: list(ballots[participant_id])
            for poll_id, ballots in state.ballots.items()
            if participant_id in ballots
        }
        mine["questions"] = [q.id for q in state.questions.values() if q.author_id == participant_id]
    return {
        "settings": state.settings.public_view(),
        "questions": _visible_questions(state, audience, participant_id),
        "polls": polls,
        "mine": mine,
    }


def counters(state: RoomState, audience: Audience) -> dict[str, dict[str, Any]]:
    """Every counter's current value: what a resumed client gets instead of the votes it missed."""
    votes = {q.id: q.votes for q in state.questions.values() if audience is Audience.MODERATOR or q.status.is_public}
    polls = {}
    for poll in state.polls.values():
        if audience is Audience.MODERATOR or poll.status.is_public:
            visible = audience is Audience.MODERATOR or poll.tally_is_public
            polls[poll.id] = {
                "ballots": poll.ballots,
                "tally": state.poll_tally(poll.id) if visible else None,
            }
    return {"votes": votes, "polls": polls}
