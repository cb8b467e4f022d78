"""Credentials: the keys an organiser hands out, and what each one grants.

Keys come from environment variables or a keys file (generated on first start with random keys,
readable by its owner only). The service keeps only their SHA-256 digests in memory and compares
digests in constant time; no key is ever printed or logged, and logins are POSTs so keys never
appear in URLs or access logs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from .domain.roles import Role

EVENT_WIDE = {"admin": Role.ADMIN, "moderator": Role.MODERATOR, "screen": Role.SCREEN, "metrics": Role.METRICS}
PER_ROOM = {"moderator": Role.MODERATOR, "publisher": Role.PUBLISHER, "presenter": Role.PRESENTER}
ENVIRONMENT = {
    "admin": "LIVE_ADMIN_KEY",
    "moderator": "LIVE_MODERATOR_KEY",
    "screen": "LIVE_SCREEN_KEY",
    "metrics": "LIVE_METRICS_KEY",
}


MIN_LENGTH = 16  # a generated key (token_urlsafe(12)) is 16 characters
PLACEHOLDER = "change-me"  # every value in .env.example starts so; tests/test_edge.py checks


class WeakCredential(ValueError):
    """A key or the cookie secret that anyone could guess: ``live serve`` refuses to start."""


def check_strength(name: str, value: str) -> None:
    """Raises WeakCredential naming the setting (``LIVE_ADMIN_KEY``, ``keys.json: rooms.main.moderator``)."""
    if PLACEHOLDER in value.lower():
        raise WeakCredential(f"{name} is still the placeholder from .env.example: set a long random value")
    if len(value.strip()) < MIN_LENGTH:
        raise WeakCredential(f"{name} is shorter than {MIN_LENGTH} characters: set a long random value")


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


@dataclass(frozen=True)
class Grant:
    role: Role
    room: str  # a room slug, or "*" for every room


class Keyring:
    """The keys in force. A session remembers each grant with a tag of the key that gave it, so a
    grant ends when its key is changed (a leaked key is rotated, and every session it opened is
    closed with it). Tags are HMACs under a secret, so a cookie reveals nothing about the key."""

    def __init__(self, entries: list[tuple[bytes, Grant]], tag_secret: str = "") -> None:
        self._entries = entries
        self._tag_secret = tag_secret.encode("utf-8")
        self._valid = {(grant.role, grant.room, self._tag(stored)) for stored, grant in entries}

    def with_tag_secret(self, secret: str) -> Keyring:
        return Keyring(self._entries, secret)

    def _tag(self, stored: bytes) -> str:
        return hmac.new(self._tag_secret, stored, hashlib.sha256).hexdigest()[:16]

    def grants_for(self, key: str) -> list[tuple[Grant, str]]:
        """Every grant whose key matches, with its key's tag; all entries are compared so timing
        reveals nothing."""
        candidate = digest(key.strip())
        found = []
        for stored, grant in self._entries:
            if hmac.compare_digest(stored, candidate):
                found.append((grant, self._tag(stored)))
        return found

    def still_valid(self, role: Role, room: str, tag: str) -> bool:
        return (role, room, tag) in self._valid


def load_or_create_keys(path: Path, room_slugs: list[str], environ: dict[str, str] | None = None) -> Keyring:
    """Read the keys file, adding random keys for anything missing; environment variables win.

    Per-room moderator, publisher and presenter keys may also come from LIVE_MODERATOR_KEY_<ROOM>,
    LIVE_PUBLISHER_KEY_<ROOM> and LIVE_PRESENTER_KEY_<ROOM> (room slug upper-cased, dashes as
    underscores).
    """
    environ = dict(os.environ) if environ is None else environ
    stored: dict[str, object] = json.loads(path.read_text("utf-8")) if path.exists() else {}
    changed = not path.exists()
    for name in EVENT_WIDE:
        if not isinstance(stored.get(name), str):
            stored[name] = secrets.token_urlsafe(12)
            changed = True
    rooms = stored.setdefault("rooms", {})
    assert isinstance(rooms, dict)
    for slug in room_slugs:
        room_keys = rooms.setdefault(slug, {})
        for name in PER_ROOM:
            if not isinstance(room_keys.get(name), str):
                room_keys[name] = secrets.token_urlsafe(12)
                changed = True
    if changed:
        stored = _write_keys(path, stored)
        rooms = stored["rooms"]
        assert isinstance(rooms, dict)
    entries: list[tuple[bytes, Grant]] = []
    for name, role in EVENT_WIDE.items():
        key = _strong_key(environ, ENVIRONMENT[name], path, name, stored[name])
        entries.append((digest(key), Grant(role, "*")))
    for slug in room_slugs:
        suffix = slug.upper().replace("-", "_")
        for name, role in PER_ROOM.items():
            variable = f"LIVE_{name.upper()}_KEY_{suffix}"
            key = _strong_key(environ, variable, path, f"rooms.{slug}.{name}", rooms[slug][name])
            entries.append((digest(key), Grant(role, slug)))
    return Keyring(entries)


def _strong_key(environ: dict[str, str], variable: str, path: Path, field: str, stored: object) -> str:
    """The key in force (the variable wins over the file), checked under the name it came from."""
    if environ.get(variable):
        check_strength(variable, environ[variable])
        return environ[variable]
    check_strength(f"{path.name}: {field}", str(stored))
    return str(stored)


def _write_keys(path: Path, keys: dict[str, object]) -> dict[str, object]:
    """Write atomically; replicas sharing a data directory all end up with the same keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    _write_private(temporary, json.dumps(keys, indent=2))
    if path.exists():
        temporary.replace(path)  # adding keys for new rooms to an existing file
        return keys
    try:
        os.link(temporary, path)  # fails if another replica created the file first
    except FileExistsError:
        temporary.unlink()
        return json.loads(path.read_text("utf-8"))
    temporary.unlink()
    return keys


def _write_private(path: Path, text: str) -> None:
    """Created readable by its owner only from the start, not chmod-ed after the fact."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


def load_or_create_secret(path: Path) -> str:
    if path.exists():
        secret = path.read_text("utf-8").strip()
        check_strength(str(path), secret)
        return secret
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    _write_private(path, secret)
    return secret
