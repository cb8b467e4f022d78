"""The moderators' private note to the speaker, and who may read the presenter view: the rules as
state transitions (tests/rooms.py), and what each audience is sent of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from live.access import Grant, load_or_create_keys
from live.domain.errors import InvalidInput, NotAllowed
from live.domain.events import PresenterNoteChanged, event_from_data, event_to_json
from live.domain.projection import project, room_view, snapshot
from live.domain.roles import Actor, Audience, Role, reader_audience
from live.domain.room import MAX_PRESENTER_NOTE_LENGTH, ModerationMode, RoomSettings, RoomState

from .rooms import ANN, MOD, NOW, ask, do

SPEAKER = Actor("speaker", None, frozenset({(Role.PRESENTER, "main")}))
SCREEN = Actor("screen", None, frozenset({(Role.SCREEN, "*")}))


def note(text: str | None) -> dict[str, object]:
    return {"type": "set_presenter_note", "text": text}


def test_a_moderator_sets_and_clears_the_note() -> None:
    state = RoomState("main")
    (event,) = do(state, MOD, note("  Two minutes left  "))
    assert isinstance(event, PresenterNoteChanged) and event.by == "mod"
    assert state.settings.presenter_note is not None
    assert (state.settings.presenter_note.text, state.settings.presenter_note.at) == ("Two minutes left", NOW)
    (cleared,) = do(state, MOD, note(None))
    assert cleared.note is None and state.settings.presenter_note is None


@pytest.mark.parametrize("actor", [ANN, SPEAKER, SCREEN, Actor("other", None, frozenset({(Role.MODERATOR, "side")}))])
def test_only_the_rooms_moderators_may_write_to_the_speaker(actor: Actor) -> None:
    state = RoomState("main")
    with pytest.raises(NotAllowed):
        do(state, actor, note("Take the question from the floor"))
    assert state.settings.presenter_note is None


def test_the_note_is_short_and_cleaned() -> None:
    state = RoomState("main")
    do(state, MOD, note("x" * MAX_PRESENTER_NOTE_LENGTH))
    with pytest.raises(InvalidInput):
        do(state, MOD, note("x" * (MAX_PRESENTER_NOTE_LENGTH + 1)))
    assert state.settings.presenter_note is not None and len(state.settings.presenter_note.text) == 200
    do(state, MOD, note("wrap\u202eup\u200b now"))
    assert state.settings.presenter_note.text == "wrapup now"


def test_blank_clears_and_nothing_changed_is_no_event() -> None:
    state = RoomState("main")
    assert do(state, MOD, note(None)) == []  # no note to clear
    do(state, MOD, note("Wrap up"))
    assert do(state, MOD, note("Wrap up"), now=NOW + 5) == []  # a retry shows no new note
    (cleared,) = do(state, MOD, note("   "))
    assert cleared.note is None
    assert do(state, MOD, note("")) == []


def test_the_public_never_sees_the_note() -> None:
    state = RoomState("main")
    (event,) = do(state, MOD, note("Two minutes left"))
    assert project(event, Audience.PUBLIC) is None
    assert project(event, Audience.PRESENTER) == {
        "type": "presenter_note",
        "note": {"text": "Two minutes left", "at": NOW},
    }
    assert project(event, Audience.MODERATOR) == {
        "type": "presenter_note",
        "note": {"text": "Two minutes left", "at": NOW},
        "by": "mod",
    }
    # a later settings change carries the whole settings: the public's view of them has no note
    (changed,) = do(state, MOD, {"type": "set_moderation", "mode": "post"})
    public = project(changed, Audience.PUBLIC)
    assert public is not None and "presenter_note" not in json.dumps(public)
    assert "presenter_note" not in room_view(state, Audience.PUBLIC)
    assert "Two minutes" not in json.dumps(snapshot(state, Audience.PUBLIC, "ann"))
    assert room_view(state, Audience.PRESENTER)["presenter_note"] == {"text": "Two minutes left", "at": NOW}
    assert room_view(state, Audience.MODERATOR)["presenter_note"] == {"text": "Two minutes left", "at": NOW}


def test_the_presenter_sees_what_the_public_sees_not_pending_questions() -> None:
    state = RoomState("main", settings=RoomSettings(moderation=ModerationMode.PRE))
    pending = ask(state, text="Unmoderated, maybe abusive")
    approved = ask(state, text="Fine")
    do(state, MOD, {"type": "moderate_question", "question_id": approved.id, "action": "approve"})
    shown = {q["id"] for q in room_view(state, Audience.PRESENTER)["questions"]}
    assert shown == {approved.id}
    (asked,) = do(state, ANN, {"type": "ask_question", "text": "Another one"})
    assert project(asked, Audience.PRESENTER) is None
    assert pending.id not in json.dumps(room_view(state, Audience.PRESENTER))


def test_the_note_survives_a_snapshot_and_the_event_log() -> None:
    state = RoomState("main")
    (event,) = do(state, MOD, note("Last question"))
    assert event_from_data(json.loads(event_to_json(event))) == event
    restored = RoomState.from_snapshot(json.loads(json.dumps(state.to_snapshot())))
    assert restored.settings.presenter_note == state.settings.presenter_note
    older = state.to_snapshot()
    del older["settings"]["presenter_note"]  # a snapshot written before the note existed
    assert RoomState.from_snapshot(older).settings.presenter_note is None


def test_who_may_open_the_presenter_view() -> None:
    assert reader_audience(SPEAKER, "main", "presenter") is Audience.PRESENTER
    assert reader_audience(MOD, "main", "presenter") is Audience.PRESENTER
    admin = Actor("admin", None, frozenset({(Role.ADMIN, "*")}))
    assert reader_audience(admin, "main", "presenter") is Audience.PRESENTER
    for actor, room, reader in [
        (SPEAKER, "main", "moderator"),
        (SPEAKER, "side", "presenter"),
        (ANN, "main", "presenter"),
        (SCREEN, "main", "presenter"),
    ]:
        with pytest.raises(NotAllowed):
            reader_audience(actor, room, reader)


def test_each_room_gets_a_presenter_key(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    keyring = load_or_create_keys(
        path, ["main", "side"], environ={"LIVE_PRESENTER_KEY_SIDE": "side-presenter-key-1234"}
    )
    stored = json.loads(path.read_text("utf-8"))
    main_key = stored["rooms"]["main"]["presenter"]
    assert [grant for grant, _ in keyring.grants_for(main_key)] == [Grant(Role.PRESENTER, "main")]
    assert [grant for grant, _ in keyring.grants_for("side-presenter-key-1234")] == [Grant(Role.PRESENTER, "side")]
    assert keyring.grants_for(stored["rooms"]["side"]["presenter"]) == []  # the variable wins over the file
