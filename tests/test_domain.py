"""The room's rules as plain state transitions: no engine, no socket, no clock."""

from __future__ import annotations

from itertools import count

import pytest

from live.domain.commands import parse_command
from live.domain.decide import Context, apply
from live.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from live.domain.events import QuestionChanged
from live.domain.polls import PollKind
from live.domain.projection import CounterUpdate, author_notice, poll_counters, project, snapshot
from live.domain.questions import QuestionStatus
from live.domain.replies import command_reply
from live.domain.roles import Actor, Audience, Role
from live.domain.room import ModerationMode, RoomSettings, RoomState
from live.domain.text import clean_text, normalise_word

from .rooms import ANN, MOD, ask, do

BOB = Actor("bob")
OTHER_ROOM_MOD = Actor("mod2", None, frozenset({(Role.MODERATOR, "hall-a")}))
ADMIN = Actor("admin", None, frozenset({(Role.ADMIN, "*")}))
ids = (f"id{n}" for n in count())  # new ids for commands applied directly


def room(mode: ModerationMode = ModerationMode.PRE, require_name: bool = False) -> RoomState:
    return RoomState("main", RoomSettings(moderation=mode, require_name=require_name))


def test_pre_moderation_holds_questions_until_approved() -> None:
    state = room()
    qid = ask(state).id
    assert state.questions[qid].status == "pending"
    (event,) = do(state, MOD, {"type": "moderate_question", "question_id": qid, "action": "approve"})
    assert state.questions[qid].status == "live" and event.action == "approved" and not event.was_public


def test_post_moderation_publishes_at_once_and_can_be_switched_live() -> None:
    state = room(ModerationMode.POST)
    assert state.questions[ask(state).id].status == "live"
    do(state, MOD, {"type": "set_moderation", "mode": "pre"})
    assert state.questions[ask(state).id].status == "pending"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (["approve", "dismiss", "restore"], "live"),
        (["approve", "mark_answered"], "answered"),
        (["dismiss"], "dismissed"),
        (["approve", "mark_answered", "restore"], "live"),
    ],
)
def test_moderation_paths(path: list[str], expected: str) -> None:
    state = room()
    qid = ask(state).id
    for action in path:
        do(state, MOD, {"type": "moderate_question", "question_id": qid, "action": action})
    assert state.questions[qid].status == expected


def test_concurrent_moderators_get_one_clear_result() -> None:
    state = room()
    qid = ask(state).id
    do(state, MOD, {"type": "moderate_question", "question_id": qid, "action": "dismiss"})
    with pytest.raises(Conflict, match="dismissed"):  # the second moderator's approve arrives late
        do(state, ADMIN, {"type": "moderate_question", "question_id": qid, "action": "approve"})
    assert state.questions[qid].status == "dismissed"


def test_roles_are_checked_per_room() -> None:
    state = room()
    qid = ask(state).id
    for actor in (ANN, OTHER_ROOM_MOD):
        with pytest.raises(NotAllowed):
            do(state, actor, {"type": "moderate_question", "question_id": qid, "action": "approve"})
    do(state, ADMIN, {"type": "moderate_question", "question_id": qid, "action": "approve"})


def test_upvotes_once_per_participant_and_can_be_taken_back() -> None:
    state = room(ModerationMode.POST)
    qid = ask(state).id
    do(state, BOB, {"type": "upvote", "question_id": qid})
    assert do(state, BOB, {"type": "upvote", "question_id": qid}) == []  # stuffing changes nothing
    do(state, ANN, {"type": "upvote", "question_id": qid})
    assert state.questions[qid].votes == 2
    do(state, BOB, {"type": "upvote", "question_id": qid, "voted": False})
    assert state.questions[qid].votes == 1 and state.upvotes[qid] == {"ann"}


def test_pending_questions_cannot_be_upvoted_by_guessing_ids() -> None:
    state = room()
    qid = ask(state).id
    with pytest.raises(NotFound):
        do(state, BOB, {"type": "upvote", "question_id": qid})


def test_highlight_is_one_per_room_and_cleared_when_answered() -> None:
    state = room(ModerationMode.POST)
    first, second = ask(state).id, ask(state, text="Second").id
    do(state, MOD, {"type": "highlight_question", "question_id": first})
    do(state, MOD, {"type": "highlight_question", "question_id": second})
    assert state.settings.answering_question_id == second
    do(state, MOD, {"type": "moderate_question", "question_id": second, "action": "mark_answered"})
    assert state.settings.answering_question_id is None
    with pytest.raises(Conflict):
        do(state, MOD, {"type": "highlight_question", "question_id": second})


def test_edit_keeps_the_original_and_reply_star_labels() -> None:
    state = room(ModerationMode.POST)
    qid = ask(state, text="speling").id
    do(state, MOD, {"type": "edit_question", "question_id": qid, "text": "spelling"})
    do(state, MOD, {"type": "edit_question", "question_id": qid, "text": "Spelling?"})
    question = state.questions[qid]
    assert (question.text, question.original_text) == ("Spelling?", "speling")
    do(state, MOD, {"type": "star_question", "question_id": qid, "starred": True})
    do(state, MOD, {"type": "reply_to_question", "question_id": qid, "reply": "See slide 4"})
    do(state, MOD, {"type": "label_question", "question_id": qid, "labels": ["hydrogen", "hydrogen", "policy"]})
    question = state.questions[qid]
    assert question.starred and question.reply == "See slide 4" and question.labels == ("hydrogen", "policy")
    assert "original_text" not in question.public_view() and "starred" not in question.public_view()


def test_a_star_or_a_label_is_not_announced_to_the_public_nor_to_the_asker() -> None:
    state = room(ModerationMode.POST)
    live_id, pending_id = ask(state, text="A public question").id, ask(state, text="Buy spam").id
    state.questions[pending_id] = state.questions[pending_id].model_copy(update={"status": QuestionStatus.PENDING})
    for qid in (live_id, pending_id):
        star = do(state, MOD, {"type": "star_question", "question_id": qid, "starred": True})
        label = do(state, MOD, {"type": "label_question", "question_id": qid, "labels": ["later"]})
        for event in (*star, *label):
            assert project(event, Audience.PUBLIC) is None
            assert author_notice(event) is None
            assert project(event, Audience.MODERATOR)["action"] in ("starred", "labelled")
    edit = do(state, MOD, {"type": "edit_question", "question_id": live_id, "text": "A public question?"})
    assert project(edit[0], Audience.PUBLIC)["action"] == "edited"  # what viewers can see still goes out


def test_merging_names_publicly_only_askers_whose_question_was_public() -> None:
    state = room(ModerationMode.PRE)
    kept = ask(state, ANN, "Hydrogen trucks?").id
    do(state, MOD, {"type": "moderate_question", "question_id": kept, "action": "approve"})
    approved = ask(state, Actor("cat", "Cat"), "Hydrogen trucks!").id
    do(state, MOD, {"type": "moderate_question", "question_id": approved, "action": "approve"})
    pending = ask(state, Actor("dan", "Dan Secret"), "Hydrogen trucks??").id  # never approved
    events = do(state, MOD, {"type": "merge_questions", "question_id": kept, "duplicate_ids": [approved, pending]})
    public = [project(event, Audience.PUBLIC) for event in events]
    view = next(m for m in public if m and m["type"] == "question")["question"]
    assert view["also_asked_by"] == ["Cat"] and view["also_asked"] == 2
    assert "Dan Secret" not in str(public) and "Dan Secret" not in str(snapshot(state, Audience.PUBLIC, None))
    moderator_view = project(events[-1], Audience.MODERATOR)["question"]
    assert [a["author_name"] for a in moderator_view["merged_askers"]] == ["Cat", "Dan Secret"]


def test_questions_are_bounded_and_cleaned() -> None:
    state = room()
    for text in ("", "   \n\t ", "\u200b\u202e", "x" * 501):
        with pytest.raises(InvalidInput):
            ask(state, text=text)
    assert state.questions == {}
    qid = ask(state, text="  <script>alert(1)</script>\u202e 氢能 🚗  ").id
    assert state.questions[qid].text == "<script>alert(1)</script> 氢能 🚗"  # kept as text; pages escape it


def test_names_are_shown_only_when_given_and_can_be_required() -> None:
    state = room(require_name=True)
    with pytest.raises(InvalidInput):
        ask(state, actor=BOB)
    with pytest.raises(InvalidInput):
        ask(state, actor=ANN, anonymous=True)
    assert state.questions[ask(state, actor=ANN).id].author_name == "Ann"
    other = room()
    assert other.questions[ask(other, actor=ANN, anonymous=True).id].author_name is None


def test_unknown_commands_and_fields_are_refused() -> None:
    for raw in (
        {"type": "drop_tables"},
        {"text": "no type"},
        {"type": "ask_question", "text": "x", "extra": 1},
        "text",
        None,
    ):
        with pytest.raises(InvalidInput):
            parse_command(raw)


@pytest.mark.parametrize("kind", [k for k in PollKind if k not in (PollKind.OPEN_TEXT, PollKind.QUIZ)])
def test_poll_lifecycle_counts_one_ballot_per_participant(kind: PollKind) -> None:
    state = room()
    options = ["Hydrogen", "Battery", "Hybrid"]
    (event,) = do(state, MOD, {"type": "create_poll", "kind": kind.value, "question": "Which?", "options": options})
    pid = event.poll.id
    choice = {
        "single_choice": ["Battery"],
        "multiple_choice": ["Battery", "Hybrid"],
        "rating": ["4"],
        "word_cloud": ["Ｈｙｄｒｏｇｅｎ"],
        "ranking": ["Battery", "Hybrid", "Hydrogen"],
    }[kind.value]
    with pytest.raises(NotFound):  # a draft is invisible to viewers
        do(state, ANN, {"type": "vote_poll", "poll_id": pid, "choices": choice})
    do(state, MOD, {"type": "change_poll", "poll_id": pid, "action": "open"})
    assert state.settings.active_poll_id == pid
    do(state, ANN, {"type": "vote_poll", "poll_id": pid, "choices": choice})
    assert do(state, ANN, {"type": "vote_poll", "poll_id": pid, "choices": choice}) == []
    second = {
        "single_choice": ["Hydrogen"],
        "multiple_choice": ["Hydrogen"],
        "rating": ["5"],
        "word_cloud": ["hydrogen "],
        "ranking": ["Hydrogen", "Battery", "Hybrid"],
    }[kind.value]
    do(state, BOB, {"type": "vote_poll", "poll_id": pid, "choices": second})
    do(state, MOD, {"type": "change_poll", "poll_id": pid, "action": "close"})
    with pytest.raises(Conflict):
        do(state, BOB, {"type": "vote_poll", "poll_id": pid, "choices": choice})
    tally = state.poll_tally(pid)
    assert state.polls[pid].ballots == 2
    expected = {
        "single_choice": {"Hydrogen": 1, "Battery": 1, "Hybrid": 0},
        "multiple_choice": {"Hydrogen": 1, "Battery": 1, "Hybrid": 1},
        "rating": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1},
        "word_cloud": {"hydrogen": 2},
        "ranking": {"Hydrogen": 2, "Battery": 3, "Hybrid": 1},  # Borda: 2, 1, 0 points per ballot
    }[kind.value]
    assert tally == expected


def test_changing_a_vote_moves_it() -> None:
    state = room()
    (event,) = do(state, MOD, {"type": "create_poll", "kind": "single_choice", "question": "?", "options": ["A", "B"]})
    pid = event.poll.id
    do(state, MOD, {"type": "change_poll", "poll_id": pid, "action": "open"})
    do(state, ANN, {"type": "vote_poll", "poll_id": pid, "choices": ["A"]})
    (voted,) = do(state, ANN, {"type": "vote_poll", "poll_id": pid, "choices": ["B"]})
    assert voted.choices == ("B",) and voted.ballots == 1 and state.poll_tally(pid) == {"A": 0, "B": 1}
    for bad in (["C"], ["A", "B"], []):
        with pytest.raises(InvalidInput):
            do(state, ANN, {"type": "vote_poll", "poll_id": pid, "choices": bad})


def test_results_hidden_until_revealed() -> None:
    state = room()
    (event,) = do(
        state,
        MOD,
        {
            "type": "create_poll",
            "kind": "single_choice",
            "question": "?",
            "options": ["A", "B"],
            "visibility": "on_reveal",
        },
    )
    pid = event.poll.id
    do(state, MOD, {"type": "change_poll", "poll_id": pid, "action": "open"})
    (voted,) = do(state, ANN, {"type": "vote_poll", "poll_id": pid, "choices": ["A"]})
    assert project(voted, Audience.PUBLIC) == CounterUpdate("polls", pid)  # read from the state at flush
    assert poll_counters(state, pid, Audience.PUBLIC, voted=True) == {"ballots": 1, "tally": None}
    assert poll_counters(state, pid, Audience.MODERATOR, voted=False) == {"ballots": 1, "tally": {"A": 1, "B": 0}}
    (revealed,) = do(state, MOD, {"type": "change_poll", "poll_id": pid, "action": "reveal"})
    message = project(revealed, Audience.PUBLIC)
    assert isinstance(message, dict) and message["poll"]["tally"] == {"A": 1, "B": 0}
    assert poll_counters(state, pid, Audience.PUBLIC, voted=False) == {"ballots": 1, "tally": {"A": 1, "B": 0}}


def test_projection_never_leaks_pending_questions_or_identities() -> None:
    state = room()
    qid = ask(state, actor=BOB).id
    asked = QuestionChanged(question=state.questions[qid], action="asked", was_public=False)
    assert project(asked, Audience.PUBLIC) is None
    moderator_view = project(asked, Audience.MODERATOR)
    assert isinstance(moderator_view, dict) and moderator_view["question"]["author_id"] == "bob"
    (dismissed,) = do(state, MOD, {"type": "moderate_question", "question_id": qid, "action": "dismiss"})
    assert project(dismissed, Audience.PUBLIC) is None  # never public, so nothing to remove
    assert snapshot(state, Audience.PUBLIC, "ann")["questions"] == []
    assert snapshot(state, Audience.PUBLIC, "bob")["mine"]["questions"] == [qid]


def test_text_cleaning_and_word_normalisation() -> None:
    assert clean_text("a\r\n\n\n\nb", field="t", max_length=10) == "a\n\nb"
    assert clean_text("one\ntwo", field="t", max_length=10, multiline=False) == "one two"
    assert normalise_word("  ＨＹＤＲＯＧＥＮ　") == "hydrogen"
    assert normalise_word("氢能") == normalise_word(" 氢能 ")


def test_deleting_a_draft_poll_tells_viewers_nothing() -> None:
    state = room()
    (created,) = do(state, MOD, {"type": "create_poll", "kind": "rating", "question": "Rate?"})
    (deleted,) = do(state, MOD, {"type": "change_poll", "poll_id": created.poll.id, "action": "delete"})
    assert project(deleted, Audience.PUBLIC) is None
    assert project(deleted, Audience.MODERATOR) == {"type": "poll_removed", "poll_id": created.poll.id}
    assert state.polls == {}


def test_repeated_moderator_actions_are_no_ops() -> None:
    state = room(ModerationMode.POST)
    qid = ask(state).id
    do(state, MOD, {"type": "reply_to_question", "question_id": qid, "reply": "Yes"})
    assert do(state, MOD, {"type": "reply_to_question", "question_id": qid, "reply": "Yes"}) == []
    do(state, MOD, {"type": "label_question", "question_id": qid, "labels": ["a"]})
    assert do(state, MOD, {"type": "label_question", "question_id": qid, "labels": ["a"]}) == []


def test_a_clone_evolves_apart_from_its_original() -> None:
    """Engines decide a batch of commands on a clone; the replica must not see them until stored."""
    state = room(ModerationMode.POST)
    qid = ask(state).id
    do(state, BOB, {"type": "upvote", "question_id": qid})
    (created,) = do(state, MOD, {"type": "create_poll", "kind": "open_text", "question": "Ideas?"})
    poll_id = created.poll.id
    do(state, MOD, {"type": "change_poll", "poll_id": poll_id, "action": "open"})
    do(state, BOB, {"type": "vote_poll", "poll_id": poll_id, "choices": ["Hydrogen"]})
    before = state.to_snapshot()
    copy = state.clone()
    assert copy.to_snapshot() == before
    commands = [
        (ANN, {"type": "upvote", "question_id": qid}),
        (BOB, {"type": "upvote", "question_id": qid, "voted": False}),
        (MOD, {"type": "edit_question", "question_id": qid, "text": "Why so?"}),
        (MOD, {"type": "highlight_question", "question_id": qid}),
        (ANN, {"type": "vote_poll", "poll_id": poll_id, "choices": ["Storage"]}),
        (MOD, {"type": "moderate_answer", "poll_id": poll_id, "participant_id": "bob", "action": "approve"}),
        (MOD, {"type": "set_moderation", "mode": "pre"}),
    ]
    for actor, command in commands:
        do(copy, actor, command)
    assert state.to_snapshot() == before and state.poll_tally(poll_id) == {}
    assert copy.poll_tally(poll_id) == {"Hydrogen": 1} and copy.upvotes[qid] == {"ann"}


def test_lone_surrogates_are_removed_from_text() -> None:
    """JSON's "\\ud800" escape gives a string no UTF-8 encoder (nor Redis's JSON) accepts."""
    assert clean_text("x\ud800y \udfff😀", field="name", max_length=40) == "xy 😀"
    assert normalise_word("Hydro\udc00gen") == "hydrogen"


def test_a_clone_copies_a_room_s_voters_and_ballots_only_when_it_changes_them() -> None:
    """Cloning a big room for a batch costs its outer dicts, not every voter and ballot in it."""
    state = room(ModerationMode.POST)
    first, second = ask(state).id, ask(state, text="And storage?").id
    do(state, BOB, {"type": "upvote", "question_id": first})
    do(state, BOB, {"type": "upvote", "question_id": second})
    copy = state.clone()
    assert copy.upvotes[first] is state.upvotes[first]
    do(copy, ANN, {"type": "upvote", "question_id": first})
    assert copy.upvotes[first] == {"ann", "bob"} and state.upvotes[first] == {"bob"}
    assert copy.upvotes[second] is state.upvotes[second]  # untouched: still shared
    do(copy, ANN, {"type": "upvote", "question_id": first, "voted": False})  # now its own: no second copy
    assert copy.upvotes[first] == {"bob"} and state.upvotes[first] == {"bob"}
    do(state, ANN, {"type": "upvote", "question_id": second})  # the original is never borrowed from
    assert state.upvotes[second] == {"ann", "bob"}


def test_a_reply_says_what_its_own_command_did_not_what_its_batch_did_after() -> None:
    """Group commit: the state a reply is built from already holds the commands decided after it
    in the same batch, so what the command did comes from its own events."""
    state = room(ModerationMode.POST)
    ask_command = parse_command({"type": "ask_question", "text": "Hydrogen buses?"})
    asked = apply(state, ask_command, Context(ANN, 100.0, "q1"))
    tap = parse_command({"type": "upvote", "question_id": "q1"})
    tapped = apply(state, tap, Context(BOB, 100.0, next(ids)))
    untap = parse_command({"type": "upvote", "question_id": "q1", "voted": False})
    apply(state, untap, Context(BOB, 100.0, next(ids)))  # Bob's next tap, later in the batch
    do(state, MOD, {"type": "moderate_question", "question_id": "q1", "action": "dismiss"})
    reply = command_reply(ask_command, asked, state, ANN.participant_id, "q1")
    assert reply["question"]["id"] == "q1" and reply["question"]["status"] == "live"  # as it was asked
    assert command_reply(tap, tapped, state, BOB.participant_id, None) == {"votes": 1, "voted": True}
    # a tap that changed nothing is answered from the state: what the tap found
    assert command_reply(untap, [], state, BOB.participant_id, None) == {"votes": 0, "voted": False}
    create = parse_command({"type": "create_poll", "kind": "rating", "question": "Rate it"})
    created = apply(state, create, Context(MOD, 100.0, "p1"))
    do(state, MOD, {"type": "change_poll", "poll_id": "p1", "action": "delete"})
    assert command_reply(create, created, state, MOD.participant_id, "p1") == {"poll_id": "p1"}
    move = parse_command({"type": "move_question", "question_id": "q1", "to_room": "hall-a"})
    assert command_reply(move, [], state, MOD.participant_id, "q9") == {
        "moved_to": {"room": "hall-a", "question_id": "q9"}
    }
    settings = parse_command({"type": "set_moderation", "mode": "pre"})
    assert command_reply(settings, do(state, MOD, {"type": "set_moderation", "mode": "pre"}), state, "mod", "x") == {}


def test_a_tally_is_worked_out_once_until_its_counts_change() -> None:
    state = room()
    (created,) = do(state, MOD, {"type": "create_poll", "kind": "word_cloud", "question": "One word?"})
    poll_id = created.poll.id
    do(state, MOD, {"type": "change_poll", "poll_id": poll_id, "action": "open"})
    do(state, ANN, {"type": "vote_poll", "poll_id": poll_id, "choices": ["hydrogen"]})
    first = state.poll_tally(poll_id)
    assert state.poll_tally(poll_id) is first == {"hydrogen": 1}  # every reply of a batch reads this one
    copy = state.clone()
    do(copy, BOB, {"type": "vote_poll", "poll_id": poll_id, "choices": ["Hydrogen", "grid"]})
    assert copy.poll_tally(poll_id) == {"hydrogen": 2, "grid": 1}
    assert state.poll_tally(poll_id) is first == {"hydrogen": 1}  # the original's counts did not change
    do(state, ANN, {"type": "vote_poll", "poll_id": poll_id, "choices": ["batteries"]})  # a changed vote
    assert state.poll_tally(poll_id) == {"batteries": 1}
    do(state, MOD, {"type": "change_poll", "poll_id": poll_id, "action": "delete"})
    with pytest.raises(KeyError):
        state.poll_tally(poll_id)
