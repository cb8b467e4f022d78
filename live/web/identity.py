"""Who is on the other end of a request: an anonymous participant id and any granted roles,
kept in the signed session cookie (Starlette's SessionMiddleware, itsdangerous underneath)."""

from __future__ import annotations

import secrets

from starlette.requests import HTTPConnection

from ..access import Grant, Keyring
from ..domain.roles import Actor, Role
from ..domain.text import clean_text

MAX_NAME_LENGTH = 40


def client_address(connection: HTTPConnection) -> str:
    """The address every per-address limit counts against: the peer uvicorn saw, which its
    ProxyHeadersMiddleware has already replaced by the X-Forwarded-For address only when the
    peer is a trusted proxy (``--forwarded-allow-ips``). A forged header from anyone else
    changes nothing here."""
    client = connection.client
    return client.host if client is not None and client.host else "unknown"


def participant_id(connection: HTTPConnection) -> str:
    session = connection.session
    if "pid" not in session:
        session["pid"] = secrets.token_urlsafe(12)
    return str(session["pid"])


def actor(connection: HTTPConnection) -> Actor:
    """The participant, with the grants whose keys are still the ones in force."""
    session = connection.session
    identified = "pid" in session  # before participant_id() makes one
    keyring: Keyring = connection.app.state.service.keyring
    grants = frozenset(
        (Role(granted[0]), granted[1])
        for granted in session.get("grants", [])
        if len(granted) == 3 and keyring.still_valid(Role(granted[0]), granted[1], granted[2])
    )
    return Actor(participant_id(connection), session.get("name") or None, grants, identified)


def add_grants(connection: HTTPConnection, grants: list[tuple[Grant, str]]) -> None:
    participant_id(connection)  # logging in gives an identity too
    current = {tuple(g) for g in connection.session.get("grants", []) if len(g) == 3}
    current.update((grant.role.value, grant.room, tag) for grant, tag in grants)
    connection.session["grants"] = sorted(current)


def set_display_name(connection: HTTPConnection, name: str | None) -> str | None:
    cleaned = clean_text(name, field="name", max_length=MAX_NAME_LENGTH, multiline=False) if name else None
    connection.session["name"] = cleaned
    return cleaned
