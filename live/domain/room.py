"""A room's whole state: settings, questions, upvotes, polls and ballots, as one plain object.

Entities (questions, polls, settings) are immutable and replaced on change, so an event can carry
the new version safely; the large per-participant maps (upvotes, ballots) are mutated in place
because copying thousands of voters on every vote would be the hot path's main cost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from .polls import Ballot, Poll, PollKind, PollStatus, held_words, open_answers, quiz_leaders, tally
from .questions import Question
from .quiz import Standing, counted_polls, leaderboard, standings

_Inner = TypeVar("_Inner", set[str], dict[str, Ballot], Counter[str])


class ModerationMode(StrEnum):
    PRE = "pre"  # nothing is public until a moderator approves it
    POST = "post"  # public at once; a moderator can dismiss it


class ScreenScene(StrEnum):
    """What the moderator asks the venue screen to show; AUTO follows the room (``screen_shows``)."""

    AUTO = "auto"
    QUESTION = "question"
    POLL = "poll"
    JOIN = "join"
    IDLE = "idle"


MAX_PRESENTER_NOTE_LENGTH = 200  # a line or two the speaker reads at a glance


class PresenterNote(BaseModel):
    """What the moderators tell the speaker privately ("two minutes left"): only the presenter
    and moderator audiences ever see it (domain/projection.py)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    at: float  # when it was sent: the page shows how fresh it is

    def view(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ScreenShows(BaseModel):
    """What the venue screen shows now, decided once here (``screen_shows``) and sent with the
    settings: the screen draws it and decides nothing. ``scene`` is never AUTO."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scene: ScreenScene = ScreenScene.JOIN
    question_id: str | None = None
    poll_id: str | None = None


class RoomSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    moderation: ModerationMode = ModerationMode.PRE
    require_name: bool = False
    answering_question_id: str | None = None  # the one question "now answering"
    active_poll_id: str | None = None  # the poll shown on viewer pages and screens
    screen_scene: ScreenScene = ScreenScene.AUTO
    prepared_polls: tuple[str, ...] = ()  # planned polls from the event file already created once
    presenter_note: PresenterNote | None = None  # private: never in the public view
    shown: ScreenShows = ScreenShows()  # what the venue screen shows, kept current by ``decide``

    def public_view(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"prepared_polls", "presenter_note"})


def screen_shows(state: RoomState) -> ScreenShows:
    """The one rule for the venue screen. A scene the moderator picked shows what it names (the
    invitation when there is nothing to name). On AUTO: the active poll while it is open, else
    the highlighted question, else the invitation; a poll that closes while on the screen stays
    there with its results (and a quiz's reveal) until a question is highlighted or the highlight
    is cleared, so that a closed poll never comes back later over newer things."""
    settings = state.settings
    question = settings.answering_question_id if settings.answering_question_id in state.questions else None
    poll = state.polls.get(settings.active_poll_id or "")
    chosen = settings.screen_scene
    if chosen in (ScreenScene.IDLE, ScreenScene.JOIN):
        return ScreenShows(scene=chosen)
    if chosen is ScreenScene.QUESTION:
        return ScreenShows(scene=chosen, question_id=question) if question else ScreenShows()
    if chosen is ScreenScene.POLL:
        return ScreenShows(scene=chosen, poll_id=poll.id) if poll else ScreenShows()
    if poll is not None and poll.status is PollStatus.OPEN:
        return ScreenShows(scene=ScreenScene.POLL, poll_id=poll.id)
    if question:
        return ScreenShows(scene=ScreenScene.QUESTION, question_id=question)
    if poll is not None and settings.shown.poll_id == poll.id:
        return settings.shown  # closed on the screen: its results stay
    return ScreenShows()


@dataclass
class RoomState:
    room_id: str
    settings: RoomSettings = field(default_factory=RoomSettings)
    questions: dict[str, Question] = field(default_factory=dict)
    upvotes: dict[str, set[str]] = field(default_factory=dict)  # question id -> participant ids
    polls: dict[str, Poll] = field(default_factory=dict)
    ballots: dict[str, dict[str, Ballot]] = field(default_factory=dict)  # poll -> participant -> ballot
    counts: dict[str, Counter[str]] = field(default_factory=dict)  # poll -> option/word -> counted ballots
    held: dict[str, Counter[str]] = field(default_factory=dict)  # word cloud -> held word -> ballots holding it
    _borrowed: set[int] = field(default_factory=set, repr=False, compare=False)  # see clone()
    _tallies: dict[str, dict[str, int]] = field(default_factory=dict, repr=False, compare=False)
    _standings: dict[str, tuple[object, list[Standing]]] = field(default_factory=dict, repr=False, compare=False)

    def poll_tally(self, poll_id: str) -> dict[str, int]:
        """Worked out once until the poll's counts next change: every vote reply of a batch, and
        the hub's flush, read the same one (a word cloud's is a sort of every distinct word).
        Shared, so never changed by its readers."""
        cached = self._tallies.get(poll_id)
        if cached is None:
            cached = self._tallies[poll_id] = tally(self.polls[poll_id], self.counts.get(poll_id, Counter()))
        return cached

    def poll_leaders(self, poll_id: str) -> list[dict[str, Any]]:
        return quiz_leaders(self.polls[poll_id], self.ballots.get(poll_id, {}))

    def poll_answers(self, poll_id: str) -> list[dict[str, Any]]:
        return open_answers(self.ballots.get(poll_id, {}))

    def poll_held_words(self, poll_id: str) -> list[dict[str, Any]]:
        return held_words(self.polls[poll_id], self.held.get(poll_id, Counter()))

    def series_standings(self, series: str) -> list[Standing]:
        """A quiz series' standings, worked out once until a ballot or a counted poll changes:
        every viewer joining reads their own rank from the same table."""
        key = tuple((p.id, p.opened_at, p.correct) for p in counted_polls(self.polls.values(), series))
        cached = self._standings.get(series)
        if cached is None or cached[0] != key:
            cached = self._standings[series] = (key, standings(self.polls.values(), self.ballots, series))
        return cached[1]

    def poll_standings(self, poll_id: str) -> list[dict[str, Any]]:
        poll = self.polls[poll_id]
        return leaderboard(self.series_standings(poll.series)) if poll.kind is PollKind.QUIZ else []

    def poll_public_view(self, poll_id: str) -> dict[str, Any]:
        return self.polls[poll_id].public_view(
            self.poll_tally(poll_id), self.poll_leaders(poll_id), self.poll_standings(poll_id)
        )

    def poll_moderator_view(self, poll_id: str) -> dict[str, Any]:
        """Answers and held words only for the kinds that show them: every ballot of a 5,000-voter
        choice poll made into an answer view was 12 ms per moderator snapshot, then dropped."""
        poll = self.polls[poll_id]
        return poll.moderator_view(
            self.poll_tally(poll_id),
            self.poll_leaders(poll_id),
            self.poll_answers(poll_id) if poll.kind is PollKind.OPEN_TEXT else None,
            self.poll_held_words(poll_id) if poll.kind is PollKind.WORD_CLOUD else None,
            self.poll_standings(poll_id),
        )

    def clone(self) -> RoomState:
        """A copy that ``evolve`` can change without changing this one, for the price of its outer
        dicts: the sets of voters, ballot maps and counters inside stay shared until evolve first
        changes one (copy on write: ``voters_to_change`` and the others). Questions, polls,
        ballots and settings are never changed, only replaced, so sharing them is safe."""
        copy = RoomState(
            room_id=self.room_id,
            settings=self.settings,
            questions=dict(self.questions),
            upvotes=dict(self.upvotes),
            polls=dict(self.polls),
            ballots=dict(self.ballots),
            counts=dict(self.counts),
            held=dict(self.held),
        )
        # By identity: this state holds every one of them for as long as the copy is in use.
        tables = (self.upvotes, self.ballots, self.counts, self.held)
        copy._borrowed = {id(inner) for table in tables for inner in table.values()}
        return copy

    def voters_to_change(self, question_id: str) -> set[str]:
        return self._own(self.upvotes, question_id, set)

    def ballots_to_change(self, poll_id: str) -> dict[str, Ballot]:
        poll = self.polls.get(poll_id)
        if poll is not None and poll.kind is PollKind.QUIZ and poll.revealed:
            # only a counted answer moves its series' standings: other ballots (a vote storm in
            # any other poll) leave the table every joining viewer reads their rank from
            self._standings.pop(poll.series, None)
        return self._own(self.ballots, poll_id, dict)

    def counts_to_change(self, poll_id: str) -> Counter[str]:
        self._tallies.pop(poll_id, None)
        return self._own(self.counts, poll_id, Counter)

    def held_to_change(self, poll_id: str) -> Counter[str]:
        return self._own(self.held, poll_id, Counter)

    def remove_poll(self, poll_id: str) -> None:
        for table in (self.polls, self.ballots, self.counts, self.held, self._tallies):
            table.pop(poll_id, None)
        self._standings.clear()

    def _own(self, table: dict[str, _Inner], key: str, make: Callable[..., _Inner]) -> _Inner:
        """The container at ``key``, made if missing, copied first if it is borrowed."""
        inner = table.get(key)
        if inner is None:
            inner = table[key] = make()
        elif id(inner) in self._borrowed:
            self._borrowed.discard(id(inner))
            inner = table[key] = make(inner)
        return inner

    def snapshot_size(self) -> int:
        """About how many items ``to_snapshot`` writes (questions, polls, upvotes, ballots): what
        a snapshot costs, for the engine's choice of when to take one."""
        votes = sum(len(voters) for voters in self.upvotes.values())
        return len(self.questions) + len(self.polls) + votes + sum(len(b) for b in self.ballots.values())

    def to_snapshot(self) -> dict[str, Any]:
        """Everything needed to rebuild the room; engines store it with the offset it is at."""
        return {
            "room_id": self.room_id,
            "settings": self.settings.model_dump(mode="json"),
            "questions": [q.model_dump(mode="json") for q in self.questions.values()],
            "upvotes": {qid: sorted(voters) for qid, voters in self.upvotes.items() if voters},
            "polls": [p.model_dump(mode="json") for p in self.polls.values()],
            "ballots": {pid: {who: b.to_json() for who, b in bs.items()} for pid, bs in self.ballots.items()},
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
            kind = state.polls[poll_id].kind
            state.ballots[poll_id] = {who: Ballot.from_json(raw) for who, raw in ballots.items()}
            state.counts[poll_id] = Counter(c for b in state.ballots[poll_id].values() for c in b.counted(kind))
            held = Counter(word for b in state.ballots[poll_id].values() for word in b.held)
            if held and kind is PollKind.WORD_CLOUD:
                state.held[poll_id] = held
        if "shown" not in data["settings"]:  # stored before the screen's scene was decided here
            state.settings = state.settings.model_copy(update={"shown": screen_shows(state)})
        return state
