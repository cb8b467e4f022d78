"""Who is on the other end of a request: an anonymous participant id and any granted roles,
kept in the signed session cookie (Starlette's SessionMiddleware, itsdangerous underneath), and
the client address every per-address limit counts against.

Clearing the cookie makes a new participant, so minting one is limited per address (the
``new_participant`` bucket of live/ratelimit.py): that is what bounds how many votes a script on
one address can add to a question.
"""

from __future__ import annotations

import math
import secrets
import time

from starlette.requests import HTTPConnection

from ..access import Grant, Keyring
from ..domain.roles import Actor, Role
from ..domain.text import clean_text
from ..ratelimit import NEW_PARTICIPANT

MAX_NAME_LENGTH = 40


def client_address(connection: HTTPConnection) -> str:
    """The address every per-address limit counts against: the peer uvicorn saw, which its
    ProxyHeadersMiddleware has already replaced by the X-Forwarded-For address only when the
    peer is a trusted proxy (``--forwarded-allow-ips``). A forged header from anyone else
    changes nothing here."""
    client = connection.client
    return client.host if client is not None and client.host else "unknown"


def mint_wait(connection: HTTPConnection) -> int:
    """Give the session a participant id if it has none and its address may have one more now:
    0 if the session has an id (now), else the whole seconds until the address may mint again."""
    if "pid" in connection.session:
        return 0
    wait = connection.app.state.service.addresses.allow(client_address(connection), NEW_PARTICIPANT, time.monotonic())
    if wait:
        return max(1, math.ceil(wait))
    connection.session["pid"] = secrets.token_urlsafe(12)
    return 0


def participant_id(connection: HTTPConnection) -> str | None:
    """The session's participant id, minted now if the address may (else None: the page is
    shown, and its commands are refused with ``no_identity`` until the address may again)."""
    mint_wait(connection)
    pid = connection.session.get("pid")
    return str(pid) if pid is not None else None


def actor(connection: HTTPConnection) -> Actor:
    """The participant, with the grants whose keys are still the ones in force. Reading it never
    mints an identity: a session without one is a passer-by with an id made for this request."""
    session = connection.session
    identified = "pid" in session
    keyring: Keyring = connection.app.state.service.keyring
    grants = frozenset(
        (Role(granted[0]), granted[1])
        for granted in session.get("grants", [])
        if len(granted) == 3 and keyring.still_valid(Role(granted[0]), granted[1], granted[2])
    )
    pid = str(session["pid"]) if identified else secrets.token_urlsafe(12)
    return Actor(pid, session.get("name") or None, grants, identified)


def add_grants(connection: HTTPConnection, grants: list[tuple[Grant, str]]) -> None:
    if "pid" not in connection.session:  # logging in gives an identity too; a valid key is no script
        connection.session["pid"] = secrets.token_urlsafe(12)
    current = {tuple(g) for g in connection.session.get("grants", []) if len(g) == 3}
    current.update((grant.role.value, grant.room, tag) for grant, tag in grants)
    connection.session["grants"] = sorted(current)


def set_display_name(connection: HTTPConnection, name: str | None) -> str | None:
    cleaned = clean_text(name, field="name", max_length=MAX_NAME_LENGTH, multiline=False) if name else None
    connection.session["name"] = cleaned
    return cleaned
