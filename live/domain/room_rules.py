"""The rules for the room's own settings: how questions are moderated, what the venue screen shows,
what the moderators tell the speaker."""

from __future__ import annotations

from . import commands as c
from .context import Context
from .events import Event, PresenterNoteChanged, SettingsChanged
from .room import MAX_PRESENTER_NOTE_LENGTH, PresenterNote, RoomState
from .text import clean_text


def set_moderation(state: RoomState, command: c.SetModeration, context: Context) -> list[Event]:
    if state.settings.moderation is command.mode:
        return []
    settings = state.settings.model_copy(update={"moderation": command.mode})
    return [SettingsChanged(settings=settings, action="moderation_changed", by=context.actor.participant_id)]


def set_screen_scene(state: RoomState, command: c.SetScreenScene, context: Context) -> list[Event]:
    if state.settings.screen_scene is command.scene:
        return []
    settings = state.settings.model_copy(update={"screen_scene": command.scene})
    return [SettingsChanged(settings=settings, action="screen_scene_changed", by=context.actor.participant_id)]


def set_presenter_note(state: RoomState, command: c.SetPresenterNote, context: Context) -> list[Event]:
    """Blank text clears the note; the same text again changes nothing (a retry shows no new note)."""
    current = state.settings.presenter_note
    if command.text is None or not command.text.strip():
        if current is None:
            return []
        return [PresenterNoteChanged(note=None, by=context.actor.participant_id)]
    text = clean_text(command.text, field="note", max_length=MAX_PRESENTER_NOTE_LENGTH)
    if current is not None and current.text == text:
        return []
    note = PresenterNote(text=text, at=context.now)
    return [PresenterNoteChanged(note=note, by=context.actor.participant_id)]
