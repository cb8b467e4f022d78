"""Who is on the other end of a request: an anonymous participant id and any granted roles,
kept in the signed session cookie (Starlette's SessionMiddleware, itsdangerous underneath)."""

from __future__ import annotations

import secrets

from starlette.requests import HTTPConnection

from ..domain.roles import Actor, Role
from ..domain.text import clean_text

MAX_NAME_LENGTH = 40


def participant_id(connection: HTTPConnection) -> str:
    session = connection.session
    if "pid" not in session:
        session["pid"] = secrets.token_urlsafe(12)
    return str(session["pid"])


def actor(connection: HTTPConnection) -> Actor:
    session = connection.session
    grants = frozenset((Role(role), room) for role, room in session.get("grants", []))
    return Actor(participant_id(connection), session.get("name") or None, grants)


def add_grants(connection: HTTPConnection, grants: list[tuple[Role, str]]) -> None:
    current = {tuple(g) for g in connection.session.get("grants", [])}
    current.update((role.value, room) for role, room in grants)
    connection.session["grants"] = sorted(current)


def set_display_name(connection: HTTPConnection, name: str | None) -> str | None:
    cleaned = clean_text(name, field="name", max_length=MAX_NAME_LENGTH, multiline=False) if name else None
    connection.session["name"] = cleaned
    return cleaned
