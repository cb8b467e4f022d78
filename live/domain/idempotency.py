"""Idempotency keys: a client names a command so that retrying it cannot apply it twice.

A key is chosen by the client (the ``Idempotency-Key`` header of the HTTP command API, as in the
IETF httpapi draft, or ``idempotency_key`` on a stream command) and stored with the command's
events; a command whose key the room has already applied is answered with that first outcome.
Keys are scoped to the participant and the command type, so that one person cannot replay
another's command, nor get an upvote answered with the outcome of a question.
"""

from __future__ import annotations

import re

from .errors import InvalidInput

MAX_KEY_LENGTH = 64
KEY_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def parse_key(raw: object) -> str | None:
    """The client's key, or None when it sent none; refuses anything else than 1 to 64 letters,
    digits and ``. _ : -`` (a UUID fits)."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not KEY_PATTERN.fullmatch(raw):
        raise InvalidInput(f"an idempotency key is 1 to {MAX_KEY_LENGTH} letters, digits, '.', '_', ':' or '-'")
    return raw


def scoped_key(participant_id: str, command_type: str, key: str) -> str:
    """The key as the room stores it. ``/`` is in no client key, so scopes cannot collide."""
    return f"{participant_id}/{command_type}/{key}"
