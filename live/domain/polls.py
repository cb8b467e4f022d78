"""Polls: what a viewer may choose, and how ballots add up to a tally."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from . import reasons
from .errors import InvalidInput
from .filters import as_latin_lookalike
from .roles import Audience
from .text import clean_text, normalise_word

MAX_OPTIONS = 12
MAX_OPTION_LENGTH = 120
MAX_POLL_QUESTION_LENGTH = 300
MAX_WORDS_PER_BALLOT = 3
MAX_WORD_LENGTH = 40
WORD_CLOUD_SIZE = 60  # how many of the most frequent words (or open answers) a tally carries
RATING_SCALE = ("1", "2", "3", "4", "5")
MAX_ANSWER_LENGTH = 280
MAX_SERIES_LENGTH = 40
LEADERBOARD_SIZE = 10


class PollKind(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    RATING = "rating"
    WORD_CLOUD = "word_cloud"
    OPEN_TEXT = "open_text"  # free answers, shown once a moderator approves them
    QUIZ = "quiz"  # one correct option, revealed at the end, with the fastest correct answers
    RANKING = "ranking"  # each participant orders every option; the tally is Borda points


class PollStatus(StrEnum):
    DRAFT = "draft"  # prepared, not yet shown to viewers
    OPEN = "open"
    CLOSED = "closed"

    @property
    def is_public(self) -> bool:
        return self is not PollStatus.DRAFT


class ResultsVisibility(StrEnum):
    LIVE = "live"  # viewers see the tally as it grows
    AFTER_VOTE = "after_vote"  # a viewer sees it once they have voted (everyone once it closes)
    ON_REVEAL = "on_reveal"  # hidden until a moderator reveals it


class TallyHiddenUntil(StrEnum):
    """What will show a hidden tally to the public audience; pages word their note from it."""

    VOTE = "vote"  # after_vote and open: the participant's own vote, or the poll's close
    REVEAL = "reveal"  # a moderator's reveal


@dataclass(frozen=True, slots=True)
class Ballot:
    """One participant's current vote in a poll."""

    choices: tuple[str, ...]
    at: float  # when it was cast: quizzes rank the fastest correct answers
    name: str | None = None  # the display name at the time, for a quiz's leaderboard
    approved: bool | None = None  # open text only: None while it awaits a moderator
    # Held for a moderator: a word cloud's words that do not count until a moderator allows them
    # (the word filter caught them, or a moderator rejected them); an open-text answer the word
    # filter caught (it awaits a moderator like every answer, flagged).
    held: tuple[str, ...] = ()

    def counted(self, kind: PollKind) -> tuple[str, ...]:
        """The choices this ballot adds to the poll's tally."""
        if kind is PollKind.OPEN_TEXT:
            return self.choices if self.approved is True else ()
        if kind is PollKind.RANKING:
            return ranking_points(self.choices)
        if self.held:
            return tuple(choice for choice in self.choices if choice not in self.held)
        return self.choices

    def to_json(self) -> dict[str, Any]:
        data = {"choices": list(self.choices), "at": self.at, "name": self.name, "approved": self.approved}
        if self.held:  # rare: kept out of the many ballots that hold nothing
            data["held"] = list(self.held)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ballot:
        held = tuple(data.get("held", ()))
        return cls(tuple(data["choices"]), data["at"], data.get("name"), data.get("approved"), held)


class Poll(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: PollKind
    question: str
    options: tuple[str, ...] = ()
    status: PollStatus = PollStatus.DRAFT
    visibility: ResultsVisibility = ResultsVisibility.LIVE
    revealed: bool = False
    correct: tuple[str, ...] = ()  # quiz only; viewers learn it when the moderator reveals
    series: str = ""  # quiz only: the quiz polls of a room with the same series score together (quiz.py)
    ballots: int = 0
    created_at: float
    opened_at: float | None = None
    closed_at: float | None = None
    # A word cloud's words as a moderator decided them: allowed ones count although the word filter
    # caught them, rejected ones never count. For moderators only.
    allowed_words: tuple[str, ...] = ()
    rejected_words: tuple[str, ...] = ()

    def public_view(
        self,
        tally: dict[str, int],
        leaders: list[dict[str, Any]] | None = None,
        standings: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        view = self.model_dump(mode="json", exclude={"created_at", "correct", "allowed_words", "rejected_words"})
        hidden = tally_hidden_until(self, Audience.PUBLIC)  # the view every viewer shares: as if not voted
        view["tally"] = None if hidden else tally
        view["tally_hidden_until"] = hidden.value if hidden else None  # pages say what will show it
        if self.kind is PollKind.QUIZ and self.revealed:
            view["correct"] = list(self.correct)
            view["leaders"] = leaders or []
            view["standings"] = standings or []  # the series' leaderboard (quiz.py), once revealed
        return view

    def moderator_view(
        self,
        tally: dict[str, int],
        leaders: list[dict[str, Any]] | None = None,
        answers: list[dict[str, Any]] | None = None,
        held_words: list[dict[str, Any]] | None = None,
        standings: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        view = self.model_dump(mode="json")
        view["tally"] = tally
        if self.kind is PollKind.QUIZ:
            view["leaders"] = leaders or []
            view["standings"] = standings or []
        if self.kind is PollKind.OPEN_TEXT:
            view["answers"] = answers or []
        if self.kind is PollKind.WORD_CLOUD:
            view["held_words"] = held_words or []
        return view

    def holds(self, word: str, blocked: bool) -> bool:
        """Whether a word-cloud word waits for a moderator instead of counting: a moderator
        rejected it, or the word filter caught it (``blocked``) and no moderator allowed it."""
        return word in self.rejected_words or (blocked and word not in self.allowed_words)


def tally_hidden_until(poll: Poll, audience: Audience, voted: bool = False) -> TallyHiddenUntil | None:
    """Why this audience may not see the poll's tally now, or None if it may; ``voted``: the
    participant has a ballot in it. The one place this is decided: room views, counters, command
    replies and the hub's texts for voters all ask here, and pages show what they were sent."""
    if audience is Audience.MODERATOR or poll.revealed:
        return None
    if not poll.status.is_public:
        return TallyHiddenUntil.REVEAL  # a draft (the public audience is never sent one anyway)
    if poll.kind is PollKind.QUIZ:
        return TallyHiddenUntil.REVEAL  # a quiz keeps its results for the reveal, whatever its visibility
    if poll.visibility is ResultsVisibility.LIVE:
        return None
    if poll.visibility is ResultsVisibility.AFTER_VOTE:
        return None if voted or poll.status is PollStatus.CLOSED else TallyHiddenUntil.VOTE
    return TallyHiddenUntil.REVEAL


def tally_visible(poll: Poll, audience: Audience, voted: bool = False) -> bool:
    return tally_hidden_until(poll, audience, voted) is None


def tally_earned_by_voting(poll: Poll, audience: Audience) -> bool:
    """Whether the tally is shown to this audience's voters only (an open after_vote poll): the
    hub then sends voters a text of their own, and their snapshot carries it."""
    return tally_visible(poll, audience, voted=True) and not tally_visible(poll, audience, voted=False)


def clean_options(kind: PollKind, options: Iterable[str]) -> tuple[str, ...]:
    """The choices a moderator typed, checked for the poll's kind."""
    if kind is PollKind.RATING:
        return RATING_SCALE
    if kind in (PollKind.WORD_CLOUD, PollKind.OPEN_TEXT):
        return ()
    cleaned = tuple(clean_text(o, field="option", max_length=MAX_OPTION_LENGTH, multiline=False) for o in options)
    if not 2 <= len(cleaned) <= MAX_OPTIONS:
        raise InvalidInput(reasons.POLL_OPTIONS, max=MAX_OPTIONS)
    if len(set(cleaned)) != len(cleaned):
        raise InvalidInput(reasons.SAME_OPTIONS)
    return cleaned


def clean_correct(kind: PollKind, options: tuple[str, ...], correct: Iterable[str]) -> tuple[str, ...]:
    picked = tuple(dict.fromkeys(correct))
    if kind is not PollKind.QUIZ:
        if picked:
            raise InvalidInput(reasons.CORRECT_ONLY_IN_QUIZ)
        return ()
    if len(picked) != 1 or picked[0] not in options:
        raise InvalidInput(reasons.QUIZ_CORRECT)
    return picked


def clean_series(kind: PollKind, series: str) -> str:
    """The series a quiz poll scores in: a short label, "" for the room's one default series."""
    if kind is not PollKind.QUIZ:
        if series.strip():
            raise InvalidInput(reasons.SERIES_ONLY_IN_QUIZ)
        return ""
    if not series.strip():
        return ""
    return clean_text(series, field="series", max_length=MAX_SERIES_LENGTH, multiline=False)


def clean_ranking(poll: Poll, choices: list[str]) -> tuple[str, ...]:
    """A ranking ballot: every option of the poll exactly once, the first the most preferred."""
    if len(choices) != len(poll.options) or set(choices) != set(poll.options):
        raise InvalidInput(reasons.RANK_EVERY_OPTION)
    return tuple(choices)


def ranking_points(order: tuple[str, ...]) -> tuple[str, ...]:
    """A ranking ballot's Borda points, one entry per point: of n options, the first gets n-1
    points, the last none. So a ranking poll's counts (the same counter every kind keeps, one
    per counted entry) are exactly its options' total points."""
    return tuple(option for place, option in enumerate(order) for _ in range(len(order) - 1 - place))


def ranking_order(poll: Poll, tally: dict[str, int]) -> list[dict[str, Any]]:
    """A ranking poll's result: the options by total points, ties in the poll's own order, each
    with its place (equal points share a place). Pages sort the tally they are sent the same way."""
    ordered = sorted(poll.options, key=lambda option: (-tally.get(option, 0), poll.options.index(option)))
    result: list[dict[str, Any]] = []
    for index, option in enumerate(ordered):
        points = tally.get(option, 0)
        tied = result and result[-1]["points"] == points
        result.append({"option": option, "points": points, "place": result[-1]["place"] if tied else index + 1})
    return result


def clean_choices(poll: Poll, choices: list[str]) -> tuple[str, ...]:
    """A viewer's ballot, checked against the poll: the only shapes a tally ever counts."""
    if poll.kind is PollKind.OPEN_TEXT:
        if len(choices) != 1:
            raise InvalidInput(reasons.ONE_ANSWER)
        return (clean_text(choices[0], field="answer", max_length=MAX_ANSWER_LENGTH, multiline=False),)
    if poll.kind is PollKind.WORD_CLOUD:
        words = tuple(dict.fromkeys(w for w in (cloud_word(c) for c in choices) if w))
        if not 1 <= len(words) <= MAX_WORDS_PER_BALLOT:
            raise InvalidInput(reasons.WORD_COUNT, max=MAX_WORDS_PER_BALLOT)
        if any(len(w) > MAX_WORD_LENGTH for w in words):
            raise InvalidInput(reasons.WORD_TOO_LONG, max=MAX_WORD_LENGTH)
        return words
    if poll.kind is PollKind.RANKING:
        return clean_ranking(poll, choices)
    picked = tuple(dict.fromkeys(choices))
    if any(choice not in poll.options for choice in picked):
        raise InvalidInput(reasons.NOT_AN_OPTION)
    if poll.kind is PollKind.MULTIPLE_CHOICE:
        if not picked:
            raise InvalidInput(reasons.AT_LEAST_ONE)
        return tuple(o for o in poll.options if o in picked)
    if len(picked) != 1:
        raise InvalidInput(reasons.EXACTLY_ONE)
    return picked


def cloud_word(value: str) -> str:
    """A word as a word cloud counts it: folded (``normalise_word``), and a word that draws as a
    Latin word spelt in Latin (``as_latin_lookalike``)."""
    return as_latin_lookalike(normalise_word(value))


def tally(poll: Poll, counts: Counter[str]) -> dict[str, int]:
    """The counts a page draws: every option (even at zero), or the cloud's most frequent words."""
    if poll.kind in (PollKind.WORD_CLOUD, PollKind.OPEN_TEXT):
        return dict(counts.most_common(WORD_CLOUD_SIZE))
    return {option: counts.get(option, 0) for option in poll.options}


def answered_right(poll: Poll, ballot: Ballot) -> bool:
    """A quiz answer that counts: the correct option, given since the poll was (last) opened (a
    reopened quiz is asked again). The leaders and the series' points (quiz.py) both read it."""
    start = poll.opened_at
    return poll.kind is PollKind.QUIZ and start is not None and ballot.at >= start and ballot.choices == poll.correct


def quiz_leaders(poll: Poll, ballots: dict[str, Ballot]) -> list[dict[str, Any]]:
    """The fastest correct answers, counted from when the poll was (last) opened."""
    if poll.kind is not PollKind.QUIZ:
        return []
    start = poll.opened_at or 0.0
    correct = [b for b in ballots.values() if answered_right(poll, b)]
    correct.sort(key=lambda b: b.at)
    return [{"name": b.name, "seconds": round(max(0.0, b.at - start), 2)} for b in correct[:LEADERBOARD_SIZE]]


ANSWER_STATUS = {None: "pending", True: "approved", False: "dismissed"}


def answer_view(participant_id: str, ballot: Ballot) -> dict[str, Any]:
    """An open-text answer as moderators see it; ``flags`` says the word filter caught it."""
    return {
        "participant_id": participant_id,
        "text": ballot.choices[0],
        "status": ANSWER_STATUS[ballot.approved],
        "at": ballot.at,
        "name": ballot.name,
        "flags": ["word_filter"] if ballot.held else [],
    }


def open_answers(ballots: dict[str, Ballot]) -> list[dict[str, Any]]:
    """Every open-text answer with its moderation state, oldest first, for the moderator."""
    return [answer_view(who, b) for who, b in sorted(ballots.items(), key=lambda item: item[1].at)]


def held_words(poll: Poll, held: Counter[str]) -> list[dict[str, Any]]:
    """A word cloud's held words for moderators, the most often sent first (bounded like the
    cloud): how many ballots hold each, and whether it awaits a decision or was rejected."""
    return [
        {"word": word, "count": count, "status": "rejected" if word in poll.rejected_words else "held"}
        for word, count in held.most_common(WORD_CLOUD_SIZE)
    ]
