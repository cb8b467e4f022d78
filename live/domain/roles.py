"""Who is acting, and which audience a connection belongs to."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .errors import InvalidInput, NotAllowed


class Role(StrEnum):
    VIEWER = "viewer"
    MODERATOR = "moderator"
    ADMIN = "admin"
    SCREEN = "screen"
    PUBLISHER = "publisher"
    PRESENTER = "presenter"  # the speaker's tablet or a confidence monitor: reads the room, no commands
    METRICS = "metrics"  # a monitoring scraper: reads /metrics, nothing in any room


class Audience(StrEnum):
    """What a connection may see. Events are projected once per audience, not once per client."""

    PUBLIC = "public"  # viewers and venue screens: only what has been made public
    PRESENTER = "presenter"  # the speaker's view: what the public sees, plus the moderators' note
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

    @property
    def is_admin(self) -> bool:
        """The event's administrator: every room, the admin page, the report, replays' settings."""
        return (Role.ADMIN, "*") in self.grants

    def has(self, role: Role, room: str) -> bool:
        if role is Role.VIEWER:
            return True
        if self.is_admin:
            return True
        if role is Role.PRESENTER and self.moderates(room):
            return True  # moderators open the presenter view to check what the speaker sees
        return (role, room) in self.grants or (role, "*") in self.grants

    def moderates(self, room: str) -> bool:
        return self.has(Role.MODERATOR, room)


# Who may open a room as what, and which audience that is: the one place that decides it, for the
# stream (``?as=``), the JSON API (``?as=``) and the room pages alike (commands: ``decide``).
READERS = {
    "viewer": (Role.VIEWER, Audience.PUBLIC),
    "screen": (Role.SCREEN, Audience.PUBLIC),
    "publisher": (Role.PUBLISHER, Audience.PUBLIC),  # the broadcast page
    "presenter": (Role.PRESENTER, Audience.PRESENTER),  # not the moderator audience: no pending questions
    "moderator": (Role.MODERATOR, Audience.MODERATOR),
}


def reader_audience(actor: Actor, room: str, reader: str) -> Audience:
    """The audience ``actor`` joins when opening ``room`` as ``reader`` (a name in READERS);
    raises InvalidInput for another name and NotAllowed without the role."""
    if reader not in READERS:
        raise InvalidInput(f"unknown role {reader!r}")
    role, audience = READERS[reader]
    if not actor.has(role, room):
        raise NotAllowed(f"log in as {reader} for this room first")
    return audience
