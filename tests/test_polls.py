"""Polls of every kind as plain state transitions: counting, normalising, changing a vote,
closing, moderation of open answers, quizzes and who may see results when."""

from __future__ import annotations

from itertools import count
from typing import Any

import pytest

from live.domain.commands import ChangePoll, Command, PreparePoll, parse_command
from live.domain.decide import Context, apply
from live.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from live.domain.filters import RoomPolicy, WordFilter
from live.domain.polls import (
    RATING_SCALE,
    Poll,
    PollKind,
    PollStatus,
    ResultsVisibility,
    tally_hidden_until,
    tally_visible,
)
from live.domain.projection import CounterUpdate, counters, poll_counters, project, snapshot
from live.domain.replies import command_reply
from live.domain.roles import Actor, Audience, Role
from live.domain.room import RoomSettings, RoomState, ScreenShows

from .rooms import MOD, ask, do, open_poll, vote

ids = (f"id{n}" for n in count())  # new ids for commands applied directly

SYSTEM = Actor("system", None, frozenset({(Role.ADMIN, "*")}))


def test_word_cloud_folds_case_width_and_spacing_in_both_languages() -> None:
    state = RoomState("main")
    poll_id = open_poll(state, kind="word_cloud")
    vote(state, "a", poll_id, ["Hydrogen", "氢能"])
    vote(state, "b", poll_id, ["ＨＹＤＲＯＧＥＮ", " 氢能 ", "氢能"])  # full width, spaces, repeats
    vote(state, "c", poll_id, ["hydrogen  ", "Battery storage"])
    vote(state, "d", poll_id, ["battery   STORAGE"])
    assert state.poll_tally(poll_id) == {"hydrogen": 3, "氢能": 2, "battery storage": 2}
    with pytest.raises(InvalidInput):
        vote(state, "e", poll_id, ["one", "two", "three", "four"])
    with pytest.raises(InvalidInput):
        vote(state, "e", poll_id, ["   "])


def test_rating_counts_and_changes() -> None:
    state = RoomState("main")
    poll_id = open_poll(state, kind="rating")
    for who, stars in (("a", "5"), ("b", "4"), ("c", "5")):
        vote(state, who, poll_id, [stars])
    vote(state, "b", poll_id, ["2"])
    assert state.poll_tally(poll_id) == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 2}
    with pytest.raises(InvalidInput):
        vote(state, "d", poll_id, ["6"])


def test_open_text_answers_count_only_once_approved() -> None:
    state = RoomState("main")
    poll_id = open_poll(state, kind="open_text")
    (voted,) = vote(state, "a", poll_id, ["More charging stations"])
    vote(state, "b", poll_id, ["<b>Cheaper</b> batteries"])
    assert state.poll_tally(poll_id) == {}
    moderator_message = project(voted, Audience.MODERATOR)
    assert isinstance(moderator_message, dict) and moderator_message["answer"]["text"] == "More charging stations"
    assert project(voted, Audience.PUBLIC) == CounterUpdate("polls", poll_id)
    assert poll_counters(state, poll_id, Audience.PUBLIC, voted=False) == {"ballots": 2, "tally": {}}
    (approved,) = do(
        state, MOD, {"type": "moderate_answer", "poll_id": poll_id, "participant_id": "a", "action": "approve"}
    )
    do(state, MOD, {"type": "moderate_answer", "poll_id": poll_id, "participant_id": "b", "action": "dismiss"})
    assert state.poll_tally(poll_id) == {"More charging stations": 1}
    assert project(approved, Audience.PUBLIC) == CounterUpdate("polls", poll_id)
    assert poll_counters(state, poll_id, Audience.PUBLIC, voted=False) == {
        "ballots": 2,
        "tally": {"More charging stations": 1},
    }
    vote(state, "a", poll_id, ["More chargers"], now=1002.0)  # a changed answer waits for a moderator again
    assert state.poll_tally(poll_id) == {}
    assert [a["status"] for a in state.poll_answers(poll_id)] == ["dismissed", "pending"]
    with pytest.raises(NotFound):
        do(state, MOD, {"type": "moderate_answer", "poll_id": poll_id, "participant_id": "zz", "action": "approve"})
    with pytest.raises(InvalidInput):
        vote(state, "c", poll_id, ["x" * 281])


def test_quiz_reveals_the_answer_and_the_fastest_correct_participants() -> None:
    state = RoomState("main")
    with pytest.raises(InvalidInput):
        do(state, MOD, {"type": "create_poll", "kind": "quiz", "question": "?", "options": ["A", "B"]})
    with pytest.raises(InvalidInput):
        do(
            state,
            MOD,
            {"type": "create_poll", "kind": "single_choice", "question": "?", "options": ["A", "B"], "correct": ["A"]},
        )
    poll_id = open_poll(state, kind="quiz", options=["2030", "2060"], correct=["2060"])
    public = snapshot(state, Audience.PUBLIC, None)["polls"][0]
    assert "correct" not in public and "leaders" not in public  # no peeking
    vote(state, "slow", poll_id, ["2060"], now=1009.0, name="Slow")
    vote(state, "wrong", poll_id, ["2030"], now=1002.0, name="Wrong")
    vote(state, "fast", poll_id, ["2060"], now=1003.5, name="Fast 快")
    vote(state, "anon", poll_id, ["2060"], now=1005.0)
    do(state, MOD, {"type": "change_poll", "poll_id": poll_id, "action": "close"})
    (revealed,) = do(state, MOD, {"type": "change_poll", "poll_id": poll_id, "action": "reveal"})
    message = project(revealed, Audience.PUBLIC)
    assert isinstance(message, dict)
    assert message["poll"]["correct"] == ["2060"]
    assert message["poll"]["leaders"] == [
        {"name": "Fast 快", "seconds": 3.5},
        {"name": None, "seconds": 5.0},
        {"name": "Slow", "seconds": 9.0},
    ]
    assert message["poll"]["tally"] == {"2030": 1, "2060": 3}


def test_results_after_voting_reach_only_those_who_voted() -> None:
    state = RoomState("main")
    poll_id = open_poll(state, kind="single_choice", options=["A", "B"], visibility="after_vote")
    vote(state, "a", poll_id, ["A"])
    assert poll_counters(state, poll_id, Audience.PUBLIC, voted=False) == {"ballots": 1, "tally": None}
    assert poll_counters(state, poll_id, Audience.PUBLIC, voted=True) == {"ballots": 1, "tally": {"A": 1, "B": 0}}
    assert snapshot(state, Audience.PUBLIC, "a")["mine"]["tallies"] == {poll_id: {"A": 1, "B": 0}}
    assert snapshot(state, Audience.PUBLIC, "b")["mine"]["tallies"] == {}
    assert snapshot(state, Audience.PUBLIC, "b")["polls"][0]["tally"] is None
    assert counters(state, Audience.PUBLIC, "a")["polls"][poll_id]["tally"] == {"A": 1, "B": 0}
    assert counters(state, Audience.PUBLIC, "b")["polls"][poll_id]["tally"] is None
    (closed,) = do(state, MOD, {"type": "change_poll", "poll_id": poll_id, "action": "close"})
    message = project(closed, Audience.PUBLIC)
    assert isinstance(message, dict) and message["poll"]["tally"] == {"A": 1, "B": 0}  # everyone, once closed


def test_one_ballot_per_participant_and_exact_counts_at_close() -> None:
    state = RoomState("main")
    poll_id = open_poll(state, kind="multiple_choice", options=["A", "B", "C"])
    for n in range(300):
        vote(state, f"v{n}", poll_id, [["A"], ["B", "C"], ["A", "C"]][n % 3])
    for n in range(0, 300, 3):
        vote(state, f"v{n}", poll_id, ["B"])  # a third change their mind
    (closed,) = do(state, MOD, {"type": "change_poll", "poll_id": poll_id, "action": "close"})
    assert closed.tally == {"A": 100, "B": 200, "C": 200}
    assert state.polls[poll_id].ballots == 300
    with pytest.raises(Conflict):
        vote(state, "late", poll_id, ["A"])
    do(state, MOD, {"type": "change_poll", "poll_id": poll_id, "action": "open"})  # reopened
    vote(state, "late", poll_id, ["A"])
    assert state.poll_tally(poll_id)["A"] == 101


def test_planned_polls_are_created_once_and_screen_scenes_switch() -> None:
    state = RoomState("main", RoomSettings())
    planned = PreparePoll(planned_id="main-1", kind="rating", question="Rate the keynote")
    assert len(apply(state, planned, Context(SYSTEM, 1.0, "x1"))) == 2
    assert apply(state, planned, Context(SYSTEM, 2.0, "x2")) == []  # a second process or a restart
    do(state, MOD, {"type": "change_poll", "poll_id": "x1", "action": "delete"})
    assert apply(state, planned, Context(SYSTEM, 3.0, "x3")) == []  # deleted stays deleted
    assert "prepared_polls" not in state.settings.public_view()
    do(state, MOD, {"type": "set_screen_scene", "scene": "join"})
    assert state.settings.screen_scene == "join"
    with pytest.raises(InvalidInput):
        parse_command({"type": "set_screen_scene", "scene": "disco"})
    with pytest.raises(InvalidInput):
        parse_command({"type": "prepare_poll", "planned_id": "x", "kind": "rating", "question": "?"})


def test_the_screen_on_auto_shows_the_open_poll_else_the_highlighted_question() -> None:
    state = RoomState("main", RoomSettings(moderation="post"))
    assert state.settings.shown == ScreenShows(scene="join")
    question = ask(state, text="Who pays for the chargers?").id
    poll_id = open_poll(state, kind="single_choice", options=["A", "B"])
    assert state.settings.shown == ScreenShows(scene="poll", poll_id=poll_id)
    do(state, MOD, {"type": "highlight_question", "question_id": question})
    assert state.settings.shown.scene == "poll"  # the open poll first
    do(state, MOD, {"type": "change_poll", "poll_id": poll_id, "action": "close"})
    assert state.settings.shown == ScreenShows(scene="question", question_id=question)  # not the closed poll
    do(state, MOD, {"type": "highlight_question", "question_id": None})
    assert state.settings.shown == ScreenShows(scene="join")  # an old closed poll does not come back
    # a poll closed while on the screen stays there with its results, and a quiz's reveal
    quiz = open_poll(state, kind="quiz", options=["2050", "2060"], correct=["2060"], visibility="on_reveal")
    do(state, MOD, {"type": "change_poll", "poll_id": quiz, "action": "close"})
    events = do(state, MOD, {"type": "change_poll", "poll_id": quiz, "action": "reveal"})
    assert state.settings.shown == ScreenShows(scene="poll", poll_id=quiz)
    assert not [e for e in events if getattr(e, "action", None) == "screen_changed"]  # told only of changes
    # the moderator's own choice, and the invitation when what it names is gone
    do(state, MOD, {"type": "set_screen_scene", "scene": "question"})
    assert state.settings.shown == ScreenShows(scene="join")
    do(state, MOD, {"type": "highlight_question", "question_id": question})
    assert state.settings.shown == ScreenShows(scene="question", question_id=question)
    do(state, MOD, {"type": "moderate_question", "question_id": question, "action": "mark_answered"})
    assert state.settings.shown == ScreenShows(scene="join")
    # the decision travels in the settings every audience gets, and survives a snapshot
    assert state.settings.public_view()["shown"] == {"scene": "join", "question_id": None, "poll_id": None}
    assert RoomState.from_snapshot(state.to_snapshot()).settings.shown == state.settings.shown


def test_reopening_a_revealed_quiz_hides_the_answer_and_ranks_only_the_new_round() -> None:
    state = RoomState("main")
    poll_id = open_poll(state, kind="quiz", options=["2030", "2060"], correct=["2060"])
    vote(state, "early", poll_id, ["2060"], now=1001.0, name="Early")
    do(state, MOD, {"type": "change_poll", "poll_id": poll_id, "action": "close"})
    do(state, MOD, {"type": "change_poll", "poll_id": poll_id, "action": "reveal"})
    (reopened, _) = do(state, MOD, {"type": "change_poll", "poll_id": poll_id, "action": "open"}, now=2000.0)
    public = project(reopened, Audience.PUBLIC)
    assert isinstance(public, dict) and "correct" not in public["poll"]
    vote(state, "late", poll_id, ["2060"], now=2004.0, name="Late")
    assert state.poll_leaders(poll_id) == [{"name": "Late", "seconds": 4.0}]


def test_opening_a_poll_closes_the_one_that_was_open() -> None:
    """The room shows one poll: another left open would take votes nobody sees it take."""
    state = RoomState("main")
    first = open_poll(state, kind="single_choice", options=["A", "B"])
    vote(state, "v1", first, ["A"])
    second_id = do(state, MOD, {"type": "create_poll", "kind": "single_choice", "question": "Next?",
                                "options": ["C", "D"]})[0].poll.id  # fmt: skip
    events = do(state, MOD, {"type": "change_poll", "poll_id": second_id, "action": "open"})
    assert [(e.type, getattr(e, "action", None)) for e in events] == [
        ("poll_changed", "closed"),
        ("poll_changed", "opened"),
        ("settings_changed", "poll_shown"),
    ]
    assert events[0].tally == {"A": 1, "B": 0}  # its exact count at close
    assert state.polls[first].status == "closed" and state.polls[second_id].status == "open"
    assert state.settings.active_poll_id == second_id
    with pytest.raises(Conflict):
        vote(state, "v2", first, ["B"])


def test_an_unknown_poll_action_is_refused_not_taken_for_a_reveal() -> None:
    """Parsing refuses it; a command built in code (skipping validation) is refused by the rule too."""
    state = RoomState("main")
    poll_id = open_poll(state, kind="single_choice", options=["A", "B"], visibility="on_reveal")
    with pytest.raises(InvalidInput):
        parse_command({"type": "change_poll", "poll_id": poll_id, "action": "shuffle"})
    unchecked = ChangePoll.model_construct(poll_id=poll_id, action="shuffle")
    with pytest.raises(InvalidInput, match="unknown poll action"):
        apply(state, unchecked, Context(MOD, 1002.0, next(ids)))
    assert not state.polls[poll_id].revealed


HIDDEN_UNTIL_CASES = [
    # kind, visibility, status, revealed, voted -> what will show the public audience the tally
    ("single_choice", "live", "open", False, False, None),
    ("word_cloud", "after_vote", "open", False, False, "vote"),
    ("open_text", "after_vote", "open", False, True, None),  # their vote earned it
    ("rating", "after_vote", "closed", False, False, None),  # everyone's once closed
    ("single_choice", "on_reveal", "closed", False, True, "reveal"),
    ("single_choice", "on_reveal", "open", True, False, None),
    ("quiz", "live", "open", False, True, "reveal"),  # a quiz keeps its results for the reveal
    ("quiz", "after_vote", "closed", False, True, "reveal"),
    ("quiz", "live", "closed", True, False, None),
    ("single_choice", "live", "draft", False, False, "reveal"),  # never sent: drafts are private
]


@pytest.mark.parametrize(("kind", "visibility", "status", "revealed", "voted", "expected"), HIDDEN_UNTIL_CASES)
def test_who_may_see_a_tally_is_decided_in_one_place(
    kind: str, visibility: str, status: str, revealed: bool, voted: bool, expected: str | None
) -> None:
    options = ("A", "B") if kind in ("single_choice", "quiz") else RATING_SCALE if kind == "rating" else ()
    correct = ("A",) if kind == "quiz" else ()
    poll = Poll(id="p", kind=PollKind(kind), question="?", options=options, correct=correct,
                visibility=ResultsVisibility(visibility), status=PollStatus(status), revealed=revealed, created_at=1.0)  # fmt: skip
    assert tally_hidden_until(poll, Audience.PUBLIC, voted) == expected
    assert tally_visible(poll, Audience.PUBLIC, voted) is (expected is None)
    assert tally_hidden_until(poll, Audience.MODERATOR, voted) is None  # moderators always see it
    view = poll.public_view({"A": 1})
    shared = tally_hidden_until(poll, Audience.PUBLIC)  # the shared view: as if not voted
    assert view["tally_hidden_until"] == shared and (view["tally"] is None) is (shared is not None)


def test_a_live_quiz_sends_no_tally_before_its_reveal() -> None:
    """Pages used to hide it themselves; the server now keeps it, and says until when."""
    state = RoomState("main")
    poll_id = open_poll(state, kind="quiz", options=["2030", "2060"], correct=["2060"], visibility="live")
    vote(state, "a", poll_id, ["2060"])
    public = snapshot(state, Audience.PUBLIC, "a")
    assert public["polls"][0]["tally"] is None and public["polls"][0]["tally_hidden_until"] == "reveal"
    assert public["mine"]["tallies"] == {}
    assert poll_counters(state, poll_id, Audience.PUBLIC, voted=True) == {"ballots": 1, "tally": None}
    assert command_reply(vote_command(poll_id, ["2060"]), [], state, "a", None) == {}
    (revealed,) = do(state, MOD, {"type": "change_poll", "poll_id": poll_id, "action": "reveal"})
    message = project(revealed, Audience.PUBLIC)
    assert isinstance(message, dict) and message["poll"]["tally"] == {"2030": 0, "2060": 1}
    assert message["poll"]["tally_hidden_until"] is None


def vote_command(poll_id: str, choices: list[str]) -> Command:
    return parse_command({"type": "vote_poll", "poll_id": poll_id, "choices": choices})


@pytest.mark.parametrize("kind", ["single_choice", "rating", "word_cloud", "open_text"])
def test_a_vote_reply_carries_the_tally_the_voter_earned_whatever_the_kind(kind: str) -> None:
    """Word clouds and open text included: their replies used to leave it for the next counters."""
    state = RoomState("main")
    options = ["A", "B"] if kind == "single_choice" else []
    choices = {"single_choice": ["A"], "rating": ["4"], "word_cloud": ["hydrogen"], "open_text": ["More trains"]}[kind]
    poll_id = open_poll(state, kind=kind, options=options, visibility="after_vote")
    events = vote(state, "a", poll_id, choices)
    reply = command_reply(vote_command(poll_id, choices), events, state, "a", None)
    assert reply == {"tally": state.poll_tally(poll_id)}
    assert kind == "open_text" or sum(reply["tally"].values()) == 1  # an open answer counts once approved
    hidden = open_poll(state, kind=kind, options=options, visibility="on_reveal")
    events = vote(state, "a", hidden, choices)
    assert command_reply(vote_command(hidden, choices), events, state, "a", None) == {}


BLOCKING = RoomPolicy(word_filter=WordFilter.of(["spam", "代开发票"]))


def filtered_vote(state: RoomState, who: str, poll_id: str, choices: list[str], name: str | None = None) -> list[Any]:
    command = parse_command({"type": "vote_poll", "poll_id": poll_id, "choices": choices})
    return apply(state, command, Context(Actor(who, name), 1001.0, next(ids), BLOCKING))


def moderate_word(state: RoomState, poll_id: str, word: str, action: str) -> list[Any]:
    command = parse_command({"type": "moderate_word", "poll_id": poll_id, "word": word, "action": action})
    return apply(state, command, Context(MOD, 1002.0, next(ids), BLOCKING))


def test_a_blocked_word_cloud_word_is_held_out_of_the_public_cloud_until_a_moderator_allows_it() -> None:
    state = RoomState("main")
    poll_id = open_poll(state, kind="word_cloud")
    filtered_vote(state, "a", poll_id, ["hydrogen", "sp\u00adam"])  # hidden soft hyphen: still caught
    filtered_vote(state, "b", poll_id, ["SPAM"])
    filtered_vote(state, "c", poll_id, ["代开发票", "hydrogen"])
    public = state.poll_public_view(poll_id)
    assert public["tally"] == {"hydrogen": 2} and "held_words" not in public and "allowed_words" not in public
    assert poll_counters(state, poll_id, Audience.PUBLIC, voted=False) == {"ballots": 3, "tally": {"hydrogen": 2}}
    held = {"spam": 2, "代开发票": 1}
    moderator = poll_counters(state, poll_id, Audience.MODERATOR, voted=False)
    assert moderator is not None and {h["word"]: h["count"] for h in moderator["held_words"]} == held
    assert {h["status"] for h in state.poll_moderator_view(poll_id)["held_words"]} == {"held"}

    (allowed,) = moderate_word(state, poll_id, "Spam", "allow")  # as ballots hold it: folded
    assert project(allowed, Audience.PUBLIC) == CounterUpdate("polls", poll_id)
    assert state.poll_tally(poll_id) == {"hydrogen": 2, "spam": 2}
    filtered_vote(state, "d", poll_id, ["spam"])  # allowed once: later ballots count it at once
    assert state.poll_tally(poll_id)["spam"] == 3
    assert [h["word"] for h in state.poll_held_words(poll_id)] == ["代开发票"]

    moderate_word(state, poll_id, "代开发票", "reject")
    moderate_word(state, poll_id, "hydrogen", "reject")  # any word can be taken off the screen
    assert state.poll_tally(poll_id) == {"spam": 3}
    assert {h["word"]: h["status"] for h in state.poll_held_words(poll_id)} == {
        "hydrogen": "rejected",
        "代开发票": "rejected",
    }
    assert moderate_word(state, poll_id, "hydrogen", "reject") == []
    filtered_vote(state, "a", poll_id, ["hydrogen"])  # a changed ballot: still rejected
    assert "hydrogen" not in state.poll_tally(poll_id)
    rebuilt = RoomState.from_snapshot(state.to_snapshot())  # what a restart or a replica rebuilds
    assert rebuilt.poll_tally(poll_id) == state.poll_tally(poll_id)
    assert rebuilt.poll_held_words(poll_id) == state.poll_held_words(poll_id)
    with pytest.raises(NotFound):
        moderate_word(state, open_poll(state, kind="open_text"), "spam", "allow")
    with pytest.raises(NotAllowed):  # moderators only
        apply(state, parse_command({"type": "moderate_word", "poll_id": poll_id, "word": "x", "action": "allow"}),
              Context(Actor("x"), 1.0, "z", BLOCKING))  # fmt: skip


def test_a_blocked_open_text_answer_is_flagged_and_waits_for_a_moderator() -> None:
    state = RoomState("main")
    poll_id = open_poll(state, kind="open_text")
    (voted,) = filtered_vote(state, "a", poll_id, ["Buy \u0455pam now"])  # a Cyrillic dze
    filtered_vote(state, "b", poll_id, ["More trains"])
    answer = project(voted, Audience.MODERATOR)
    assert isinstance(answer, dict) and answer["answer"]["flags"] == ["word_filter"]
    assert {a["text"]: (a["status"], a["flags"]) for a in state.poll_answers(poll_id)} == {
        "Buy \u0455pam now": ("pending", ["word_filter"]),
        "More trains": ("pending", []),
    }
    assert state.poll_tally(poll_id) == {}


def test_a_blocked_name_is_left_off_a_quiz_leaderboard() -> None:
    state = RoomState("main")
    poll_id = open_poll(state, kind="quiz", options=["A", "B"], correct=["A"])
    filtered_vote(state, "a", poll_id, ["A"], name="Spam King")
    filtered_vote(state, "b", poll_id, ["A"], name="Ann")
    do(state, MOD, {"type": "change_poll", "poll_id": poll_id, "action": "reveal"})
    assert [leader["name"] for leader in state.poll_leaders(poll_id)] == [None, "Ann"]


def test_a_word_that_draws_as_a_latin_word_counts_as_that_word_and_others_stay_themselves() -> None:
    state = RoomState("main")
    poll_id = open_poll(state, kind="word_cloud")
    vote(state, "a", poll_id, ["coco", "привет"])
    vote(state, "b", poll_id, ["\u0441\u043e\u0441\u043e", "hydro\u00adgen"])  # Cyrillic letters only; a soft hyphen
    vote(state, "c", poll_id, ["\u0441oco", "hydrogen", "氢能"])  # one Cyrillic "с"
    assert state.poll_tally(poll_id) == {"coco": 3, "hydrogen": 2, "привет": 1, "氢能": 1}
