"""The rules for the room's own settings: how questions are moderated, what the venue screen shows."""

from __future__ import annotations

from . import commands as c
from .context import Context
from .events import Event, SettingsChanged
from .room import RoomState


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
