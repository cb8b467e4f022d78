"""What a rule knows besides the room's state: who acts, when, the id to give what it creates,
and the organiser's policy. The engine supplies it, so the rules themselves need no clock and
no randomness."""

from __future__ import annotations

from dataclasses import dataclass, field

from .filters import RoomPolicy
from .roles import Actor


@dataclass(frozen=True)
class Context:
    actor: Actor
    now: float
    new_id: str  # an id the engine generated, used if the command creates something
    policy: RoomPolicy = field(default_factory=RoomPolicy)  # the organiser's rules for the room
