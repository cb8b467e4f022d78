"""Ranking polls (Borda points) and quizzes as a series (points for speed and correctness, a
leaderboard with names, each player's own rank): the rules as plain state transitions."""

from __future__ import annotations

import pytest

from live.domain.errors import InvalidInput
from live.domain.polls import PollKind, ranking_order
from live.domain.projection import personal_view, project, quiz_rank_notices, snapshot
from live.domain.quiz import FULL_POINTS, SLOW_POINTS, tag_of
from live.domain.roles import Audience
from live.domain.room import RoomState
from live.export import poll_results, polls_to_csv

from .rooms import MOD, OPENED_AT, do, open_poll, vote

UTC = __import__("zoneinfo").ZoneInfo("UTC")


def reveal(state: RoomState, poll_id: str, now: float = 2000.0) -> list[object]:
    if state.polls[poll_id].status == "open":
        do(state, MOD, {"type": "change_poll", "poll_id": poll_id, "action": "close"}, now=now)
    return do(state, MOD, {"type": "change_poll", "poll_id": poll_id, "action": "reveal"}, now=now)


# -- ranking ------------------------------------------------------------------------------------


def test_a_ranking_gives_n_minus_1_points_to_a_first_place_and_none_to_the_last() -> None:
    state = RoomState("main")
    poll_id = open_poll(state, kind="ranking", options=["Tea", "Coffee", "Water"])
    vote(state, "a", poll_id, ["Tea", "Coffee", "Water"])
    vote(state, "b", poll_id, ["Coffee", "Tea", "Water"])
    vote(state, "c", poll_id, ["Coffee", "Water", "Tea"])
    assert state.poll_tally(poll_id) == {"Tea": 3, "Coffee": 5, "Water": 1}
    order = ranking_order(state.polls[poll_id], state.poll_tally(poll_id))
    assert order == [
        {"option": "Coffee", "points": 5, "place": 1},
        {"option": "Tea", "points": 3, "place": 2},
        {"option": "Water", "points": 1, "place": 3},
    ]


def test_changing_a_ranking_replaces_the_old_ballot_and_ties_share_a_place() -> None:
    state = RoomState("main")
    poll_id = open_poll(state, kind="ranking", options=["A", "B"])
    vote(state, "a", poll_id, ["A", "B"])
    vote(state, "a", poll_id, ["B", "A"])  # changed their mind
    vote(state, "b", poll_id, ["A", "B"])
    assert state.poll_tally(poll_id) == {"A": 1, "B": 1}
    assert state.polls[poll_id].ballots == 2
    order = ranking_order(state.polls[poll_id], state.poll_tally(poll_id))
    assert [(r["option"], r["place"]) for r in order] == [("A", 1), ("B", 1)]  # ties keep the poll's order


@pytest.mark.parametrize(
    "choices", [["A", "B"], ["A", "B", "C", "C"], ["A", "A", "B"], ["A", "B", "D"], [], ["A", "B", "C", "D"]]
)
def test_a_ranking_ballot_must_order_every_option_once(choices: list[str]) -> None:
    state = RoomState("main")
    poll_id = open_poll(state, kind="ranking", options=["A", "B", "C"])
    with pytest.raises(InvalidInput) as refused:
        vote(state, "a", poll_id, choices)
    assert refused.value.reason == "put every option in order, each once"
    assert state.polls[poll_id].ballots == 0 and state.poll_tally(poll_id) == {"A": 0, "B": 0, "C": 0}


def test_a_ranking_needs_options_and_survives_a_snapshot_and_an_export() -> None:
    state = RoomState("main")
    with pytest.raises(InvalidInput):
        do(state, MOD, {"type": "create_poll", "kind": "ranking", "question": "?", "options": ["only"]})
    poll_id = open_poll(state, kind="ranking", options=["X", "Y", "Z"])
    vote(state, "a", poll_id, ["Z", "Y", "X"])
    rebuilt = RoomState.from_snapshot(state.to_snapshot())
    assert rebuilt.poll_tally(poll_id) == {"X": 0, "Y": 1, "Z": 2}
    (exported,) = poll_results([rebuilt], UTC)
    assert exported["kind"] == "ranking"
    assert [r["option"] for r in exported["ranking"]] == ["Z", "Y", "X"]
    lines = polls_to_csv([exported]).splitlines()
    assert lines[0].endswith(",place") and lines[1].split(",")[-4:] == ["Z", "2", "False", "1"]


def test_a_ranking_tally_follows_the_tally_visibility_rules() -> None:
    state = RoomState("main")
    poll_id = open_poll(state, kind="ranking", options=["A", "B"], visibility="after_vote")
    vote(state, "a", poll_id, ["B", "A"])
    public = snapshot(state, Audience.PUBLIC, "b")["polls"][0]
    assert public["tally"] is None and public["tally_hidden_until"] == "vote"
    assert personal_view(state, Audience.PUBLIC, "a")["tallies"] == {poll_id: {"A": 0, "B": 1}}


# -- quiz as a series -----------------------------------------------------------------------------


def quiz(state: RoomState, correct: str = "Yes", **extra: object) -> str:
    return open_poll(state, kind="quiz", options=["Yes", "No"], correct=[correct], **extra)


def test_a_right_answer_scores_more_the_sooner_it_came_and_a_wrong_one_nothing() -> None:
    state = RoomState("main")
    poll_id = quiz(state)
    vote(state, "now", poll_id, ["Yes"], now=OPENED_AT, name="Now")
    vote(state, "half", poll_id, ["Yes"], now=OPENED_AT + 15, name="Half")
    vote(state, "late", poll_id, ["Yes"], now=OPENED_AT + 300, name="Late")
    vote(state, "wrong", poll_id, ["No"], now=OPENED_AT + 1, name="Wrong")
    reveal(state, poll_id)
    table = state.series_standings("")
    assert [(s.name, s.points, s.place) for s in table] == [
        ("Now", FULL_POINTS, 1),
        ("Half", 750, 2),
        ("Late", SLOW_POINTS, 3),
        ("Wrong", 0, 4),
    ]


def test_points_count_across_the_series_once_each_answer_is_revealed() -> None:
    state = RoomState("main")
    first = quiz(state)
    vote(state, "ann", first, ["Yes"], now=OPENED_AT + 3, name="Ann")
    vote(state, "bob", first, ["No"], now=OPENED_AT + 1, name="Bob")
    assert state.series_standings("") == []  # nothing counts before the reveal: no peeking
    reveal(state, first)
    second = quiz(state, correct="No")
    vote(state, "bob", second, ["No"], now=OPENED_AT + 0, name="Bob")
    vote(state, "ann", second, ["Yes"], now=OPENED_AT + 0, name="Ann")
    other = quiz(state, series="Afternoon")  # another series scores apart
    vote(state, "bob", other, ["Yes"], now=OPENED_AT, name="Bob")
    reveal(state, other)
    assert [(s.name, s.points) for s in state.series_standings("")] == [("Ann", 950), ("Bob", 0)]
    (revealed,) = reveal(state, second)
    assert [(s.name, s.points) for s in state.series_standings("")] == [("Bob", 1000), ("Ann", 950)]
    message = project(revealed, Audience.PUBLIC)
    assert isinstance(message, dict)
    assert message["poll"]["standings"] == [
        {"place": 1, "name": "Bob", "tag": "", "points": 1000, "correct": 1},
        {"place": 2, "name": "Ann", "tag": "", "points": 950, "correct": 1},
    ]
    assert personal_view(state, Audience.PUBLIC, "ann")["quiz"] == {
        "": {"place": 2, "name": "Ann", "tag": "", "points": 950, "correct": 1, "series": "", "players": 2},
    }
    assert personal_view(state, Audience.PUBLIC, "bob")["quiz"]["Afternoon"]["place"] == 1
    assert personal_view(state, Audience.PUBLIC, "carol")["quiz"] == {}


def test_each_player_hears_their_own_rank_when_an_answer_is_revealed() -> None:
    state = RoomState("main")
    poll_id = quiz(state)
    for index, who in enumerate(["p1", "p2", "p3"]):
        vote(state, who, poll_id, ["Yes"], now=OPENED_AT + index * 6)
    (revealed,) = reveal(state, poll_id)
    notices = dict(quiz_rank_notices(state, revealed, ["p3", "p1", "someone-else"]))
    assert set(notices) == {"p1", "p3"}  # only players, only those asked for
    assert notices["p3"]["type"] == "my_quiz_rank"
    assert notices["p3"]["rank"]["place"] == 3 and notices["p3"]["rank"]["players"] == 3
    assert notices["p1"]["rank"]["points"] == FULL_POINTS


def test_players_without_a_name_or_with_the_same_one_are_told_apart() -> None:
    state = RoomState("main")
    poll_id = quiz(state)
    vote(state, "x1", poll_id, ["Yes"], now=OPENED_AT + 1)
    vote(state, "x2", poll_id, ["Yes"], now=OPENED_AT + 2)
    vote(state, "m1", poll_id, ["Yes"], now=OPENED_AT + 3, name="Mei")
    vote(state, "m2", poll_id, ["Yes"], now=OPENED_AT + 4, name="Mei")
    vote(state, "solo", poll_id, ["Yes"], now=OPENED_AT + 5, name="Solo")
    reveal(state, poll_id)
    tags = [(s.name, s.tag) for s in state.series_standings("")]
    assert tags == [
        (None, tag_of("x1")),
        (None, tag_of("x2")),
        ("Mei", tag_of("m1")),
        ("Mei", tag_of("m2")),
        ("Solo", ""),
    ]
    assert tag_of("x1") != tag_of("x2") and len(tag_of("x1")) == 4


def test_a_new_name_follows_the_player_from_their_next_answer() -> None:
    state = RoomState("main")
    first = quiz(state)
    vote(state, "p", first, ["Yes"], now=OPENED_AT + 1)  # no name yet
    reveal(state, first)
    second = quiz(state)
    vote(state, "p", second, ["Yes"], now=OPENED_AT + 1, name="Lin 林")
    reveal(state, second)
    (standing,) = state.series_standings("")
    assert (standing.name, standing.tag, standing.points) == ("Lin 林", "", 2 * (FULL_POINTS - 17))


def test_a_series_belongs_to_quizzes_only_and_is_bounded() -> None:
    state = RoomState("main")
    with pytest.raises(InvalidInput):
        do(
            state,
            MOD,
            {"type": "create_poll", "kind": "single_choice", "question": "?", "options": ["A", "B"], "series": "S"},
        )
    with pytest.raises(InvalidInput):
        quiz(state, series="x" * 41)
    assert state.polls == {}
    poll_id = quiz(state, series="  Morning  ")
    assert state.polls[poll_id].series == "Morning" and state.polls[poll_id].kind is PollKind.QUIZ
    rebuilt = RoomState.from_snapshot(state.to_snapshot())
    assert rebuilt.polls[poll_id].series == "Morning"


def test_a_planned_quiz_names_its_series_and_a_planned_ranking_is_checked_like_a_choice_poll() -> None:
    from pydantic import ValidationError

    from live.config import PlannedPoll

    planned = PlannedPoll(kind=PollKind.QUIZ, question="?", options=["A", "B"], correct=["A"], series="Morning")
    assert planned.series == "Morning"
    with pytest.raises(ValidationError):
        PlannedPoll(kind=PollKind.RATING, question="?", series="Morning")
    with pytest.raises(ValidationError):
        PlannedPoll(kind=PollKind.RANKING, question="?", options=["only one"])


def test_a_revealed_quiz_takes_no_more_answers_so_the_answer_cannot_be_copied() -> None:
    from live.domain.errors import Conflict

    state = RoomState("main")
    poll_id = quiz(state)
    vote(state, "honest", poll_id, ["No"], now=OPENED_AT + 2, name="Honest")
    do(state, MOD, {"type": "change_poll", "poll_id": poll_id, "action": "reveal"}, now=OPENED_AT + 5)
    assert state.polls[poll_id].status == "open"  # revealed while still open
    for who, choices in (("copier", ["Yes"]), ("honest", ["Yes"])):
        with pytest.raises(Conflict) as refused:
            vote(state, who, poll_id, choices, now=OPENED_AT + 6, name=who)
        assert refused.value.reason == "the answer is out: this quiz takes no more answers"
    assert [(s.name, s.points) for s in state.series_standings("")] == [("Honest", 0)]
    assert state.polls[poll_id].ballots == 1


def test_the_series_standings_are_worked_out_again_only_when_a_counted_answer_changes() -> None:
    """Every viewer joining reads their rank from the cached table: a vote storm in another poll
    (or in a quiz not revealed yet) must not make each join work the whole series out again."""
    state = RoomState("main")
    first = quiz(state)
    vote(state, "ann", first, ["Yes"], now=OPENED_AT + 1, name="Ann")
    reveal(state, first)
    table = state.series_standings("")
    other = open_poll(state, kind="single_choice", options=["A", "B"])
    vote(state, "bob", other, ["A"])
    assert state.series_standings("") is table
    second = quiz(state)
    vote(state, "bob", second, ["Yes"], now=OPENED_AT + 1, name="Bob")
    assert state.series_standings("") is table  # not counted before its reveal
    reveal(state, second)
    assert [(s.name, s.points) for s in state.series_standings("")] == [("Ann", 983), ("Bob", 983)]
