"""A viewer's question and the moderation transitions it can go through."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

MAX_QUESTION_LENGTH = 500
MAX_REPLY_LENGTH = 1000
MAX_LABEL_LENGTH = 30
MAX_LABELS = 5


class QuestionStatus(StrEnum):
    PENDING = "pending"  # waiting for a moderator (pre-moderation, or held by the word filter)
    LIVE = "live"  # public: viewers see and upvote it
    ANSWERED = "answered"  # public, in the answered list
    DISMISSED = "dismissed"  # hidden from viewers; can be restored
    MERGED = "merged"  # folded into another question: its votes and asker went there
    MOVED = "moved"  # handed to another room, where it lives on
    WITHDRAWN = "withdrawn"  # taken back by its asker while it awaited moderation: shown to no one

    @property
    def is_public(self) -> bool:
        return self in (QuestionStatus.LIVE, QuestionStatus.ANSWERED)


# Moderation as data: which statuses each action may start from, and where it leads.
TRANSITIONS: dict[str, tuple[frozenset[QuestionStatus], QuestionStatus]] = {
    "approve": (frozenset({QuestionStatus.PENDING}), QuestionStatus.LIVE),
    "dismiss": (
        frozenset({QuestionStatus.PENDING, QuestionStatus.LIVE}),
        QuestionStatus.DISMISSED,
    ),
    "restore": (
        frozenset({QuestionStatus.DISMISSED, QuestionStatus.ANSWERED}),
        QuestionStatus.LIVE,
    ),
    "mark_answered": (frozenset({QuestionStatus.LIVE}), QuestionStatus.ANSWERED),
}


ARCHIVED = frozenset({QuestionStatus.DISMISSED, QuestionStatus.MERGED, QuestionStatus.MOVED, QuestionStatus.WITHDRAWN})
# What no moderator action can bring back into the room (merged away, moved, withdrawn by its asker).
GONE = frozenset({QuestionStatus.MERGED, QuestionStatus.MOVED, QuestionStatus.WITHDRAWN})

# Changes that touch only the moderators' own marks (a star, labels): the public view does not
# show them, and a public message saying "starred" would tell viewers what the view leaves out.
MODERATOR_ONLY_ACTIONS = frozenset({"starred", "labelled"})


class MergedAsk(BaseModel):
    """Someone who asked the same thing: kept on the question their duplicate was merged into."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    question_id: str
    author_id: str
    author_name: str | None = None
    text: str
    # Whether the duplicate had been public: a pending (or dismissed) question's asker was never
    # shown to viewers, and merging must not name them (False for merges stored before this).
    public: bool = False


class Question(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    text: str
    original_text: str | None = None  # kept when a moderator edits, for the record
    author_id: str  # the asker's participant id: never shown to other viewers
    author_name: str | None = None  # shown only if the asker chose to give it
    status: QuestionStatus
    votes: int = 0
    starred: bool = False
    reply: str | None = None
    labels: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()  # why it was held for a moderator, e.g. "word_filter"
    duplicate_of: str | None = None  # a similar earlier question, for the moderator to consider
    merged_askers: tuple[MergedAsk, ...] = ()
    merged_into: str | None = None
    moved_to: str | None = None  # the room it went to
    asked_at: float
    answered_at: float | None = None
    highlighted_at: float | None = None  # first put on screen as "now answering": its replay moment

    def public_view(self) -> dict[str, object]:
        """What viewers and screens may see: no author id, no original text, no moderator marks."""
        return {
            "id": self.id,
            "text": self.text,
            "author_name": self.author_name,
            "status": self.status.value,
            "votes": self.votes,
            "reply": self.reply,
            "asked_at": self.asked_at,
            "answered_at": self.answered_at,
            "also_asked": len(self.merged_askers),
            "also_asked_by": [ask.author_name for ask in self.merged_askers if ask.author_name and ask.public],
        }

    def moderator_view(self) -> dict[str, object]:
        return self.model_dump(mode="json")
