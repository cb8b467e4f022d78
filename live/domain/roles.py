"""Who is acting, and which audience a connection belongs to."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    MODERATOR = "moderator"
    ADMIN = "admin"
    SCREEN = "screen"
    PUBLISHER = "publisher"
    METRICS = "metrics"  # a monitoring scraper: reads /metrics, nothing in any room


class Audience(StrEnum):
    """What a connection may see. Events are projected once per audience, not once per client."""

    PUBLIC = "public"  # viewers and venue screens: only what has been made public
    MODERATOR = "moderator"  # moderators and the admin: the whole room


@dataclass(frozen=True)
class Actor:
    """The person behind a command, as the transport authenticated them.

    ``grants`` holds (role, room) pairs; room "*" means every room of the event.
    """

    participant_id: str
    display_name: str | None = None
    grants: frozenset[tuple[Role, str]] = field(default_factory=frozenset)
    identified: bool = True  # False: the id was made for this request, as the session had none

    def has(self, role: Role, room: str) -> bool:
        if role is Role.VIEWER:
            return True
        if (Role.ADMIN, "*") in self.grants:
            return True
        return (role, room) in self.grants or (role, "*") in self.grants

    def moderates(self, room: str) -> bool:
        return self.has(Role.MODERATOR, room)
