"""Polls: what a viewer may choose, and how ballots add up to a tally."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from .errors import InvalidInput
from .text import clean_text, normalise_word

MAX_OPTIONS = 12
MAX_OPTION_LENGTH = 120
MAX_POLL_QUESTION_LENGTH = 300
MAX_WORDS_PER_BALLOT = 3
MAX_WORD_LENGTH = 40
WORD_CLOUD_SIZE = 60  # how many of the most frequent words a tally carries
RATING_SCALE = ("1", "2", "3", "4", "5")


class PollKind(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    RATING = "rating"
    WORD_CLOUD = "word_cloud"


class PollStatus(StrEnum):
    DRAFT = "draft"  # prepared, not yet shown to viewers
    OPEN = "open"
    CLOSED = "closed"

    @property
    def is_public(self) -> bool:
        return self is not PollStatus.DRAFT


class ResultsVisibility(StrEnum):
    LIVE = "live"  # viewers see the tally as it grows
    AFTER_VOTE = "after_vote"  # a viewer's page shows it once they have voted
    ON_REVEAL = "on_reveal"  # hidden until a moderator reveals it


class Poll(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: PollKind
    question: str
    options: tuple[str, ...] = ()
    status: PollStatus = PollStatus.DRAFT
    visibility: ResultsVisibility = ResultsVisibility.LIVE
    revealed: bool = False
    ballots: int = 0
    created_at: float
    opened_at: float | None = None
    closed_at: float | None = None

    @property
    def tally_is_public(self) -> bool:
        return self.status.is_public and (self.visibility is not ResultsVisibility.ON_REVEAL or self.revealed)

    def public_view(self, tally: dict[str, int]) -> dict[str, object]:
        view = self.model_dump(mode="json", exclude={"created_at"})
        view["tally"] = tally if self.tally_is_public else None
        return view

    def moderator_view(self, tally: dict[str, int]) -> dict[str, object]:
        view = self.model_dump(mode="json")
        view["tally"] = tally
        return view


def clean_options(kind: PollKind, options: Iterable[str]) -> tuple[str, ...]:
    """The choices a moderator typed, checked for the poll's kind."""
    if kind is PollKind.RATING:
        return RATING_SCALE
    if kind is PollKind.WORD_CLOUD:
        return ()
    cleaned = tuple(clean_text(o, field="option", max_length=MAX_OPTION_LENGTH, multiline=False) for o in options)
    if not 2 <= len(cleaned) <= MAX_OPTIONS:
        raise InvalidInput(f"a choice poll needs 2 to {MAX_OPTIONS} options")
    if len(set(cleaned)) != len(cleaned):
        raise InvalidInput("two options are the same")
    return cleaned


def clean_choices(poll: Poll, choices: list[str]) -> tuple[str, ...]:
    """A viewer's ballot, checked against the poll: the only shapes a tally ever counts."""
    if poll.kind is PollKind.WORD_CLOUD:
        words = tuple(dict.fromkeys(w for w in (normalise_word(c) for c in choices) if w))
        if not 1 <= len(words) <= MAX_WORDS_PER_BALLOT:
            raise InvalidInput(f"enter 1 to {MAX_WORDS_PER_BALLOT} words")
        if any(len(w) > MAX_WORD_LENGTH for w in words):
            raise InvalidInput(f"a word is longer than {MAX_WORD_LENGTH} characters")
        return words
    picked = tuple(dict.fromkeys(choices))
    if any(choice not in poll.options for choice in picked):
        raise InvalidInput("that option is not in this poll")
    if poll.kind is PollKind.MULTIPLE_CHOICE:
        if not picked:
            raise InvalidInput("pick at least one option")
        return tuple(o for o in poll.options if o in picked)
    if len(picked) != 1:
        raise InvalidInput("pick exactly one option")
    return picked


def tally(poll: Poll, counts: Counter[str]) -> dict[str, int]:
    """The counts a page draws: every option (even at zero), or the cloud's most frequent words."""
    if poll.kind is PollKind.WORD_CLOUD:
        return dict(counts.most_common(WORD_CLOUD_SIZE))
    return {option: counts.get(option, 0) for option in poll.options}
