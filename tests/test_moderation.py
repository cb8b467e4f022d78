"""Guarding the room and the moderator's bigger tools: word filter, near-duplicates, merge, move,
bulk actions. Pure domain tests, then the same through a running server (both engines)."""

from __future__ import annotations

from typing import Any

import pytest

from live.domain.commands import ReceiveQuestion, parse_command
from live.domain.decide import Context, apply
from live.domain.errors import Conflict, InvalidInput, NotAllowed
from live.domain.filters import RoomPolicy, WordFilter, similarity
from live.domain.projection import project
from live.domain.roles import Actor, Audience, Role
from live.domain.room import ModerationMode, RoomSettings, RoomState

from .rooms import ANN, MOD, ask, do

BOB, CAT = Actor("bob", "Bob"), Actor("cat")
BOTH_ROOMS = Actor("mod2", None, frozenset({(Role.MODERATOR, "main"), (Role.MODERATOR, "hall-a")}))
POLICY = RoomPolicy(word_filter=WordFilter.of(["spam", "代开发票", "Ｂａｄ ｗｏｒｄ"]))


def post_room(room_id: str = "main") -> RoomState:
    return RoomState(room_id, RoomSettings(moderation=ModerationMode.POST))


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ("Buy SPAM now", True),
        ("专业代开发票，联系我", True),
        ("That is a BAD WORD", True),
        ("a spammer?", False),  # Latin words match whole words only
        ("How does hydrogen storage scale?", False),
        ("氢能储能的成本何时下降？", False),
    ],
)
def test_word_filter_holds_questions_even_in_post_moderation(text: str, held: bool) -> None:
    question = ask(post_room(), ANN, text, policy=POLICY)
    assert (question.status == "pending") is held
    assert (question.flags == ("word_filter",)) is held


def test_near_duplicates_are_flagged_for_the_moderator_only() -> None:
    state = post_room()
    first = ask(state, ANN, "How will hydrogen trucks scale?")
    second = ask(state, BOB, "How will hydrogen trucks scale up?")
    chinese = ask(state, CAT, "氢能重卡如何规模化？")
    again = ask(state, ANN, "氢能重卡如何实现规模化")
    unrelated = ask(state, BOB, "When do battery prices fall?")
    assert second.duplicate_of == first.id
    assert again.duplicate_of == chinese.id
    assert unrelated.duplicate_of is None and first.duplicate_of is None
    assert "duplicate_of" not in second.public_view()
    assert similarity("Hydrogen!", "hydrogen") == 1.0


def test_merge_combines_votes_and_keeps_the_askers() -> None:
    state = post_room()
    kept, duplicate = ask(state, ANN, "Hydrogen trucks?"), ask(state, BOB, "Hydrogen trucks??")
    for voter in (BOB, CAT):
        do(state, voter, {"type": "upvote", "question_id": kept.id})
    for voter in (CAT, ANN, Actor("dan")):
        do(state, voter, {"type": "upvote", "question_id": duplicate.id})
    do(state, MOD, {"type": "highlight_question", "question_id": duplicate.id})
    events = do(state, MOD, {"type": "merge_questions", "question_id": kept.id, "duplicate_ids": [duplicate.id]})
    merged, kept_after = state.questions[duplicate.id], state.questions[kept.id]
    assert (merged.status, merged.merged_into) == ("merged", kept.id)
    assert kept_after.votes == 4 and state.upvotes[kept.id] == {"bob", "cat", "ann", "dan"}  # no one counted twice
    assert [(a.author_id, a.author_name) for a in kept_after.merged_askers] == [("bob", "Bob")]
    assert state.settings.answering_question_id is None
    public = [project(e, Audience.PUBLIC) for e in events]
    assert public[0] == {"type": "question_removed", "question_id": duplicate.id}
    assert public[1]["question"]["votes"] == 4 and public[1]["question"]["also_asked_by"] == ["Bob"]
    with pytest.raises(Conflict):  # merging it again
        do(state, MOD, {"type": "merge_questions", "question_id": kept.id, "duplicate_ids": [duplicate.id]})
    with pytest.raises(InvalidInput):
        do(state, MOD, {"type": "merge_questions", "question_id": kept.id, "duplicate_ids": [kept.id]})
    with pytest.raises(NotAllowed):
        do(state, ANN, {"type": "merge_questions", "question_id": kept.id, "duplicate_ids": [duplicate.id]})


def test_move_hands_the_question_and_its_votes_to_another_room() -> None:
    source, target = post_room("main"), post_room("hall-a")
    question = ask(source, ANN, "Wrong room?")
    do(source, BOB, {"type": "upvote", "question_id": question.id})
    with pytest.raises(NotAllowed):  # a moderator of main only cannot push into hall-a
        do(source, MOD, {"type": "move_question", "question_id": question.id, "to_room": "hall-a"})
    do(source, BOTH_ROOMS, {"type": "move_question", "question_id": question.id, "to_room": "hall-a"})
    assert (source.questions[question.id].status, source.questions[question.id].moved_to) == ("moved", "hall-a")
    arriving = ReceiveQuestion(question=question, voters=("bob",), from_room="main")
    (arrived,) = apply(target, arriving, Context(BOTH_ROOMS, 101.0, "new-id"))
    assert arrived.action == "moved_in"
    moved = target.questions["new-id"]
    assert (moved.text, moved.votes, moved.status, moved.author_name) == ("Wrong room?", 1, "live", "Ann")
    assert target.upvotes["new-id"] == {"bob"}
    with pytest.raises(NotAllowed):
        apply(target, arriving, Context(MOD, 101.0, "other"))
    with pytest.raises(InvalidInput):
        parse_command({"type": "receive_question", "question": question.model_dump(), "voters": [], "from_room": "x"})


def test_bulk_moderation_skips_what_is_already_done() -> None:
    state = RoomState("main", RoomSettings())
    questions = [ask(state, ANN, f"question {n}") for n in range(4)]
    do(state, MOD, {"type": "moderate_question", "question_id": questions[0].id, "action": "dismiss"})
    events = do(
        state,
        MOD,
        {"type": "moderate_questions", "question_ids": [q.id for q in questions] + ["nope"], "action": "approve"},
    )
    assert len(events) == 3
    assert [state.questions[q.id].status for q in questions] == ["dismissed", "live", "live", "live"]
    with pytest.raises(Conflict):
        do(state, MOD, {"type": "moderate_questions", "question_ids": [questions[0].id], "action": "approve"})
    with pytest.raises(NotAllowed):
        do(state, ANN, {"type": "moderate_questions", "question_ids": [questions[1].id], "action": "dismiss"})


@pytest.mark.parametrize(
    "command",
    [
        {"type": "moderate_question", "question_id": "{id}", "action": "dismiss"},
        {"type": "moderate_question", "question_id": "{id}", "action": "mark_answered"},
        {"type": "moderate_questions", "question_ids": ["{id}"], "action": "dismiss"},
        {"type": "merge_questions", "question_id": "{other}", "duplicate_ids": ["{id}"]},
        {"type": "move_question", "question_id": "{id}", "to_room": "hall-a"},
    ],
)
def test_a_highlighted_question_that_stops_being_live_leaves_the_screen(command: dict[str, Any]) -> None:
    state = post_room()
    highlighted, other = ask(state, ANN, "On screen?"), ask(state, BOB, "Another?")
    do(state, MOD, {"type": "highlight_question", "question_id": highlighted.id})
    filled = {
        key: [v.format(id=highlighted.id, other=other.id) for v in value]
        if isinstance(value, list)
        else value.format(id=highlighted.id, other=other.id)
        for key, value in command.items()
    }
    events = do(state, BOTH_ROOMS, filled)
    assert state.settings.answering_question_id is None
    cleared = events[-1]
    assert (cleared.type, cleared.action, cleared.by) == (
        "settings_changed",
        "highlight_cleared",
        BOTH_ROOMS.participant_id,
    )
