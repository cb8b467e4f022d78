"""A room's whole state: settings, questions, upvotes, polls and ballots, as one plain object.

Entities (questions, polls, settings) are immutable and replaced on change, so an event can carry
the new version safely; the large per-participant maps (upvotes, ballots) are mutated in place
because copying thousands of voters on every vote would be the hot path's main cost.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from .polls import Poll, tally
from .questions import Question


class ModerationMode(StrEnum):
    PRE = "pre"  # nothing is public until a moderator approves it
    POST = "post"  # public at once; a moderator can dismiss it


class RoomSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    moderation: ModerationMode = ModerationMode.PRE
    require_name: bool = False
    answering_question_id: str | None = None  # the one question "now answering"
    active_poll_id: str | None = None  # the poll shown on viewer pages and screens

    def public_view(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


@dataclass
class RoomState:
    room_id: str
    settings: RoomSettings = field(default_factory=RoomSettings)
    questions: dict[str, Question] = field(default_factory=dict)
    upvotes: dict[str, set[str]] = field(default_factory=dict)  # question id -> participant ids
    polls: dict[str, Poll] = field(default_factory=dict)
    ballots: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)  # poll -> participant -> choices
    counts: dict[str, Counter[str]] = field(default_factory=dict)  # poll -> option/word -> ballots

    def poll_tally(self, poll_id: str) -> dict[str, int]:
        return tally(self.polls[poll_id], self.counts.get(poll_id, Counter()))

    def to_snapshot(self) -> dict[str, Any]:
        """Everything needed to rebuild the room; engines store it with the offset it is at."""
        return {
            "room_id": self.room_id,
            "settings": self.settings.model_dump(mode="json"),
            "questions": [q.model_dump(mode="json") for q in self.questions.values()],
            "upvotes": {qid: sorted(voters) for qid, voters in self.upvotes.items() if voters},
            "polls": [p.model_dump(mode="json") for p in self.polls.values()],
            "ballots": {pid: {who: list(c) for who, c in b.items()} for pid, b in self.ballots.items()},
        }

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> RoomState:
        state = cls(
            room_id=data["room_id"],
            settings=RoomSettings.model_validate(data["settings"]),
        )
        for raw in data["questions"]:
            question = Question.model_validate(raw)
            state.questions[question.id] = question
        state.upvotes = {qid: set(voters) for qid, voters in data["upvotes"].items()}
        for raw in data["polls"]:
            poll = Poll.model_validate(raw)
            state.polls[poll.id] = poll
        for poll_id, ballots in data["ballots"].items():
            state.ballots[poll_id] = {who: tuple(choices) for who, choices in ballots.items()}
            state.counts[poll_id] = Counter(c for choices in state.ballots[poll_id].values() for c in choices)
        return state
