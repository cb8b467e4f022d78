"""A viewer's own question while it awaits moderation: its asker, and only its asker, may edit it
or withdraw it; once a moderator has acted it is no longer theirs to change (issue 14)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from live.domain.errors import Conflict, NotAllowed, NotFound
from live.domain.filters import RoomPolicy, WordFilter
from live.domain.projection import author_notice, project, snapshot
from live.domain.questions import QuestionStatus
from live.domain.reasons import NO_LONGER_PENDING, NOT_YOUR_QUESTION, QUESTION_GONE
from live.domain.roles import Actor, Audience
from live.domain.room import ModerationMode, RoomSettings, RoomState

from .conftest import MODERATOR_KEY, LiveServer
from .livetools import Person
from .rooms import ANN, MOD, ask, do

BOB = Actor("bob", "Bob")
POLICY = RoomPolicy(word_filter=WordFilter.of(["spam"]))


def room(mode: ModerationMode = ModerationMode.PRE) -> RoomState:
    return RoomState("main", RoomSettings(moderation=mode))


def edit(state: RoomState, actor: Actor, qid: str, text: str, policy: RoomPolicy | None = None) -> list[object]:
    return do(state, actor, {"type": "edit_my_question", "question_id": qid, "text": text}, policy=policy)


def withdraw(state: RoomState, actor: Actor, qid: str) -> list[object]:
    return do(state, actor, {"type": "withdraw_question", "question_id": qid})


def test_the_asker_edits_a_pending_question_and_only_they_hear_of_it() -> None:
    state = room()
    qid = ask(state, ANN, "Hydrogen trucks, when").id
    (event,) = edit(state, ANN, qid, "  Hydrogen trucks: when?  ")
    after = state.questions[qid]
    assert after.text == "Hydrogen trucks: when?" and after.status is QuestionStatus.PENDING
    assert after.original_text is None  # the moderators' "original" is for their own edits
    assert project(event, Audience.PUBLIC) is None  # other viewers never saw it
    assert project(event, Audience.MODERATOR)["question"]["text"] == "Hydrogen trucks: when?"
    notice = author_notice(event)
    assert notice is not None and notice[0] == "ann" and notice[1]["action"] == "edited_by_asker"
    assert edit(state, ANN, qid, "Hydrogen trucks: when?") == []  # the same text: nothing happens


def test_an_edit_goes_through_the_word_filter_again() -> None:
    state = room(ModerationMode.POST)
    qid = ask(state, ANN, "Buy spam here", policy=POLICY).id
    assert state.questions[qid].status is QuestionStatus.PENDING and state.questions[qid].flags == ("word_filter",)
    edit(state, ANN, qid, "Is carbon capture worth it?", policy=POLICY)
    assert state.questions[qid].flags == () and state.questions[qid].status is QuestionStatus.PENDING
    edit(state, ANN, qid, "Is spam worth it?", policy=POLICY)
    assert state.questions[qid].flags == ("word_filter",)


def test_the_asker_withdraws_a_pending_question_and_no_one_sees_it_again() -> None:
    state = room()
    qid = ask(state, ANN, "Never mind").id
    (event,) = withdraw(state, ANN, qid)
    assert state.questions[qid].status is QuestionStatus.WITHDRAWN
    assert project(event, Audience.PUBLIC) is None
    assert project(event, Audience.MODERATOR)["question"]["status"] == "withdrawn"
    notice = author_notice(event)
    assert notice is not None and notice[1]["action"] == "withdrawn"
    assert snapshot(state, Audience.PUBLIC, "ann")["questions"] == []  # not among their pending ones
    for action in ("approve", "dismiss", "restore", "mark_answered"):  # no moderator brings it back
        with pytest.raises(Conflict):
            do(state, MOD, {"type": "moderate_question", "question_id": qid, "action": action})
    other = ask(state, ANN, "Another").id
    with pytest.raises(Conflict):
        do(state, MOD, {"type": "merge_questions", "question_id": other, "duplicate_ids": [qid]})
    with pytest.raises(Conflict, match="no longer"):
        withdraw(state, ANN, qid)


@pytest.mark.parametrize(
    "command",
    [
        {"type": "edit_question", "text": "Tidied by a moderator"},
        {"type": "reply_to_question", "reply": "We will come back to this"},
        {"type": "star_question", "starred": True},
        {"type": "label_question", "labels": ["policy"]},
    ],
)
def test_no_moderator_changes_a_question_that_left_the_room(command: dict[str, object]) -> None:
    """Withdrawn by its asker, merged away or moved: nobody sees it any more and nothing brings it
    back, so an edit, a reply, a star or a label would be work lost; refused, and nothing changes."""
    state = room()
    withdrawn = ask(state, ANN, "Never mind").id
    withdraw(state, ANN, withdrawn)
    kept = ask(state, BOB, "Hydrogen trucks: when?").id
    merged = ask(state, ANN, "When do hydrogen trucks come?").id
    do(state, MOD, {"type": "merge_questions", "question_id": kept, "duplicate_ids": [merged]})
    for qid in (withdrawn, merged):
        before = state.questions[qid]
        with pytest.raises(Conflict) as refused:
            do(state, MOD, {**command, "question_id": qid})
        assert refused.value.reason == QUESTION_GONE
        assert state.questions[qid] == before
    assert do(state, MOD, {**command, "question_id": kept})  # the question that stayed: changed


@pytest.mark.parametrize("change", [edit, withdraw])
def test_only_the_asker_and_only_while_pending(change: object) -> None:
    state = room()
    qid = ask(state, ANN, "Whose is this?").id

    def apply(actor: Actor) -> list[object]:
        if change is edit:
            return edit(state, actor, qid, "Changed by someone")
        return withdraw(state, actor, qid)

    for stranger in (BOB, MOD):  # a moderator edits with edit_question, not as the asker
        with pytest.raises(NotAllowed) as refused:
            apply(stranger)
        assert refused.value.reason == NOT_YOUR_QUESTION and refused.value.detail["reason"] == NOT_YOUR_QUESTION
    with pytest.raises(NotFound):
        do(state, ANN, {"type": "withdraw_question", "question_id": "nope"})
    do(state, MOD, {"type": "moderate_question", "question_id": qid, "action": "approve"})
    with pytest.raises(Conflict) as late:
        apply(ANN)
    assert late.value.reason == NO_LONGER_PENDING
    assert state.questions[qid].text == "Whose is this?" and state.questions[qid].status is QuestionStatus.LIVE


def test_an_edit_is_bounded_like_a_question() -> None:
    state = room()
    qid = ask(state, ANN, "Short").id
    with pytest.raises(Exception, match="longer than 500"):
        edit(state, ANN, qid, "x" * 501)
    with pytest.raises(Exception, match="empty"):
        edit(state, ANN, qid, "   ")
    assert state.questions[qid].text == "Short"


async def test_over_the_api_and_the_stream(serve_live: Callable[..., LiveServer]) -> None:
    server = serve_live()
    asker, other, moderator = Person(server), Person(server), Person(server)
    moderator.login(MODERATOR_KEY)
    question = asker.ok("main", {"type": "ask_question", "text": "First draft"})["question"]
    mod_stream = await moderator.connect("main", role="moderator")
    asker_stream = await asker.connect("main")
    await mod_stream.receive()
    await asker_stream.receive()

    refused = other.command("main", {"type": "edit_my_question", "question_id": question["id"], "text": "Mine now"})
    assert refused.status_code == 403
    assert refused.json()["error"]["reason"] == NOT_YOUR_QUESTION

    assert asker.ok("main", {"type": "edit_my_question", "question_id": question["id"], "text": "Second draft"})
    (mine,) = [m for m in await asker_stream.receive_until("my_question") if m["type"] == "my_question"]
    assert mine["action"] == "edited_by_asker" and mine["question"]["text"] == "Second draft"
    seen = await mod_stream.receive_until("question")
    assert seen[-1]["question"]["text"] == "Second draft"

    await asker_stream.send({"type": "command", "ref": "w1", "command": {"type": "withdraw_question",
                                                                          "question_id": question["id"]}})  # fmt: skip
    heard = await asker_stream.receive_until("ack")
    if not any(m["type"] == "my_question" for m in heard):  # the notice may follow the ack
        heard += await asker_stream.receive_until("my_question")
    assert [m["action"] for m in heard if m["type"] == "my_question"] == ["withdrawn"]
    seen = await mod_stream.receive_until("question")
    assert seen[-1]["question"]["status"] == "withdrawn"
    late = moderator.command("main", {"type": "moderate_question", "question_id": question["id"], "action": "approve"})
    assert late.status_code == 409
    for stream in (mod_stream, asker_stream):
        await stream.close()


@pytest.mark.parametrize("change", [edit, withdraw])
def test_a_question_others_were_merged_into_is_no_longer_the_askers_alone(change: object) -> None:
    """A moderator merged Bob's live question (and its votes) into Ann's pending one: withdrawing
    it would lose Bob's question and votes, rewriting it would change what Bob asked."""
    state = room(ModerationMode.POST)
    bobs = ask(state, BOB, "How big is the market?").id
    do(state, Actor("carol", "Carol"), {"type": "upvote", "question_id": bobs, "voted": True})
    state.settings = state.settings.model_copy(update={"moderation": ModerationMode.PRE})
    anns = ask(state, ANN, "How large is the market?").id
    do(state, MOD, {"type": "merge_questions", "question_id": anns, "duplicate_ids": [bobs]})
    assert state.questions[anns].status is QuestionStatus.PENDING and state.questions[anns].votes == 1
    with pytest.raises(Conflict) as refused:
        edit(state, ANN, anns, "Something else") if change is edit else withdraw(state, ANN, anns)
    assert refused.value.reason == NO_LONGER_PENDING
    kept = state.questions[anns]
    assert (kept.status, kept.text, kept.votes, len(kept.merged_askers)) == (
        QuestionStatus.PENDING, "How large is the market?", 1, 1,
    )  # fmt: skip


@pytest.mark.parametrize("change", [edit, withdraw])
def test_a_question_a_moderator_edited_is_no_longer_the_askers_to_change(change: object) -> None:
    state = room()
    qid = ask(state, ANN, "Rude words here").id
    do(state, MOD, {"type": "edit_question", "question_id": qid, "text": "Polite words here"})
    with pytest.raises(Conflict) as refused:
        edit(state, ANN, qid, "Rude words again") if change is edit else withdraw(state, ANN, qid)
    assert refused.value.reason == NO_LONGER_PENDING
    assert state.questions[qid].text == "Polite words here"
