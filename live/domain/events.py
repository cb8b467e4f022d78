"""What happened in a room. Each event carries the new state of what it touched.

Carrying state rather than intent keeps ``evolve`` trivial (replace the entity), lets a replica
in another process follow the room from events alone, and lets the stream project an event for
an audience without looking anything up.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from .polls import Poll, PollKind
from .questions import Question, QuestionStatus
from .room import PresenterNote, RoomSettings


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class QuestionChanged(_Event):
    type: Literal["question_changed"] = "question_changed"
    question: Question
    action: str  # asked, approved, dismissed, edited, ...
    was_public: bool  # lets viewers remove a question that stopped being public
    by: str | None = None  # the moderator's participant id, for the other moderators
    voters: tuple[str, ...] | None = None  # the question's whole upvote set, when a merge or move set it
    previous_status: QuestionStatus | None = None  # what it was before: a moved question arrives as it was


class QuestionVoted(_Event):
    """A high-rate counter: stored and replicated, but conflated before it reaches pages."""

    type: Literal["question_voted"] = "question_voted"
    question_id: str
    participant_id: str
    voted: bool
    votes: int


class SettingsChanged(_Event):
    type: Literal["settings_changed"] = "settings_changed"
    settings: RoomSettings
    action: str
    by: str | None = None
    at: float | None = None  # when a question was highlighted (None in events stored before it was kept)


class PresenterNoteChanged(_Event):
    """The moderators' private note to the speaker; None: cleared. Its own event, not a
    SettingsChanged, so the public audience is sent nothing when it changes."""

    type: Literal["presenter_note_changed"] = "presenter_note_changed"
    note: PresenterNote | None
    by: str | None = None


class PollChanged(_Event):
    type: Literal["poll_changed"] = "poll_changed"
    poll: Poll
    tally: dict[str, int]
    leaders: list[dict[str, Any]] = []  # a quiz's fastest correct answers, when revealed or closed
    answers: list[dict[str, Any]] = []  # an open-text poll's answers, for moderators
    held_words: list[dict[str, Any]] = []  # a word cloud's held words, for moderators
    standings: list[dict[str, Any]] = []  # a quiz's series leaderboard as this change leaves it (quiz.py)
    action: str
    by: str | None = None


class PollDeleted(_Event):
    type: Literal["poll_deleted"] = "poll_deleted"
    poll_id: str
    was_public: bool = True
    by: str | None = None


class PollVoted(_Event):
    """A high-rate counter, like QuestionVoted; pages read the resulting tally from the state."""

    type: Literal["poll_voted"] = "poll_voted"
    poll_id: str
    kind: PollKind
    participant_id: str
    choices: tuple[str, ...]
    at: float
    name: str | None = None
    ballots: int
    held: tuple[str, ...] = ()  # what of the ballot waits for a moderator (see polls.Ballot.held)


class AnswerModerated(_Event):
    """A moderator approved or dismissed an open-text answer; ``tally`` counts approved answers."""

    type: Literal["answer_moderated"] = "answer_moderated"
    poll_id: str
    participant_id: str
    text: str
    approved: bool
    tally: dict[str, int]  # approved answers, for the moderators' console
    by: str | None = None


class WordModerated(_Event):
    """A moderator allowed or rejected a word of a word cloud: ``poll`` carries the decision
    (its allowed and rejected words), and every ballot with the word counts it, or holds it."""

    type: Literal["word_moderated"] = "word_moderated"
    poll: Poll
    word: str
    allowed: bool
    by: str | None = None


Event = Annotated[
    QuestionChanged
    | QuestionVoted
    | SettingsChanged
    | PresenterNoteChanged
    | PollChanged
    | PollDeleted
    | PollVoted
    | AnswerModerated
    | WordModerated,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def event_from_data(data: object) -> Event:
    """From parsed JSON: a stored event's payload is parsed once, with its envelope."""
    return EVENT_ADAPTER.validate_python(data)


def event_to_json(event: Event) -> str:
    return event.model_dump_json()
