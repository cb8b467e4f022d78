"""A quiz as a series: points across its questions, a leaderboard with names, each player's rank.

A series is the quiz polls of a room that share a ``series`` label (``""``, the default, is the
room's one unnamed series). A question counts once a moderator reveals its answer, so the
standings never tell anyone which answer was right before the room sees it. A correct answer
scores more the sooner it came after the poll (last) opened: ``FULL_POINTS`` at once, falling
evenly to ``SLOW_POINTS`` at ``SLOW_AFTER_SECONDS`` and staying there; a wrong answer scores 0.
A player's name is the one on their latest answer in the series, so a new name follows them
from their next answer; players without one, or with the same name, are told apart by a short
tag worked out from who they are.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .polls import LEADERBOARD_SIZE, Ballot, Poll, PollKind, answered_right

FULL_POINTS = 1000
SLOW_POINTS = 500
SLOW_AFTER_SECONDS = 30.0
TAG_LENGTH = 4


@dataclass(frozen=True, slots=True)
class Standing:
    """One player's place in a series."""

    participant_id: str
    name: str | None
    tag: str  # "" unless the name alone would not tell this player apart
    points: int
    correct: int  # how many questions they answered right
    seconds: float  # the time their correct answers took, together: breaks a tie in the order
    place: int  # equal points share a place (1, 1, 3)

    def public_view(self) -> dict[str, Any]:
        return {"place": self.place, "name": self.name, "tag": self.tag, "points": self.points, "correct": self.correct}


def answer_points(poll: Poll, ballot: Ballot) -> int:
    """What one answer scores: nothing unless it is right and was given in the poll's last opening."""
    start = poll.opened_at
    if start is None or not answered_right(poll, ballot):
        return 0
    seconds = min(ballot.at - start, SLOW_AFTER_SECONDS)
    return FULL_POINTS - round((FULL_POINTS - SLOW_POINTS) * seconds / SLOW_AFTER_SECONDS)


def counted_polls(polls: Iterable[Poll], series: str | None) -> list[Poll]:
    """The questions of a series that count now: its quiz polls whose answer was revealed
    (``series`` None: of every series)."""
    return [p for p in polls if p.kind is PollKind.QUIZ and p.revealed and series in (None, p.series)]


def tag_of(participant_id: str) -> str:
    """A short, stable tag for a player (not their id, which signs nothing but is theirs alone)."""
    return hashlib.sha256(participant_id.encode()).hexdigest()[:TAG_LENGTH]


def standings(polls: Iterable[Poll], ballots: dict[str, dict[str, Ballot]], series: str) -> list[Standing]:
    """Every player of the series, best first: by points, then by the time their right answers
    took, then by who they are (so the order is the same in every process)."""
    points: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    seconds: dict[str, float] = {}
    latest: dict[str, Ballot] = {}  # whose name the table shows
    for poll in counted_polls(polls, series):
        for who, ballot in ballots.get(poll.id, {}).items():
            scored = answer_points(poll, ballot)
            points[who] += scored
            correct[who] += 1 if scored else 0
            seconds[who] = seconds.get(who, 0.0) + (ballot.at - (poll.opened_at or ballot.at) if scored else 0.0)
            if who not in latest or ballot.at >= latest[who].at:
                latest[who] = ballot
    order = sorted(latest, key=lambda who: (-points[who], seconds[who], who))
    uses = Counter(latest[who].name for who in order)
    result: list[Standing] = []
    for index, who in enumerate(order):
        name = latest[who].name
        tag = tag_of(who) if name is None or uses[name] > 1 else ""
        place = result[-1].place if result and result[-1].points == points[who] else index + 1
        result.append(Standing(who, name, tag, points[who], correct[who], round(seconds[who], 2), place))
    return result


def leaderboard(table: list[Standing]) -> list[dict[str, Any]]:
    """The top of the standings, as the venue screen and every page show it."""
    return [standing.public_view() for standing in table[:LEADERBOARD_SIZE]]


def rank_view(standing: Standing, series: str, players: int) -> dict[str, Any]:
    """One player's place, for them alone: the leaderboard shows only the top."""
    return {**standing.public_view(), "series": series, "players": players}


def own_rank(table: list[Standing], participant_id: str, series: str) -> dict[str, Any] | None:
    """A participant's place in a series (None: they have not played a counted question)."""
    for standing in table:
        if standing.participant_id == participant_id:
            return rank_view(standing, series, len(table))
    return None
