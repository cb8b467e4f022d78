"""Logging in and out with a key: guessing is slow, logins come from this site's own pages, and
logging out ends the login for every copy of the cookie.

A session cookie is signed, not stored, so a copy of it (another browser, a proxy's log) stays
valid after its owner logs out unless the server remembers that the login ended. Each login gets
a random id in the session; logging out records that id as revoked in the engine's storage
(SQLite or Redis, so every process sees it), and ``RevokedLogins`` strips the grants from any
request whose session carries a revoked id.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from ..access import Grant
from ..engines.storage import Storage, StorageUnavailable
from ..ratelimit import Rate, RateLimiter
from . import identity
from .origin import same_origin_post

log = logging.getLogger(__name__)

SESSION_MAX_AGE = 14 * 24 * 3600  # covers a two-day event and its rehearsals
LOGIN_ID = "login"
LOGIN_ATTEMPTS = Rate(burst=10, per_second=1 / 6)  # per address: 10 at once, then 10 a minute


class LoginRefused(Exception):
    def __init__(self, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.retry_after = code, message, retry_after


def new_attempt_limiter() -> RateLimiter:
    return RateLimiter({"login": LOGIN_ATTEMPTS})


def check_same_site(connection: HTTPConnection) -> None:
    """Raises LoginRefused for a login or logout posted from another site (login CSRF)."""
    if not same_origin_post(connection):
        raise LoginRefused("forbidden", "log in and out from this site's own pages")


def check_attempt(connection: HTTPConnection) -> None:
    """Raises LoginRefused for a cross-site login, or one too many from the client's address."""
    check_same_site(connection)
    limiter: RateLimiter = connection.app.state.login_attempts
    wait = limiter.allow(identity.client_address(connection), "login", time.monotonic())
    if wait:
        retry = math.ceil(wait)
        raise LoginRefused("rate_limited", f"too many logins from this address: try again in {retry} s", retry)


def log_in(connection: HTTPConnection, grants: list[tuple[Grant, str]]) -> None:
    identity.add_grants(connection, grants)
    connection.session.setdefault(LOGIN_ID, secrets.token_urlsafe(16))


async def log_out(connection: HTTPConnection) -> None:
    login_id = connection.session.pop(LOGIN_ID, None)
    connection.session.pop("grants", None)
    if isinstance(login_id, str):
        await connection.app.state.service.engine.storage.revoke_login(login_id, SESSION_MAX_AGE)


class RevokedLogins:
    """ASGI middleware, inside the session middleware: a session whose login was ended loses its
    grants before any route reads them. Revocations are remembered in-process once seen."""

    def __init__(self, app: ASGIApp, storage: Storage) -> None:
        self.app = app
        self._storage = storage
        self._known: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.drop_revoked(scope.get("session") if scope["type"] in ("http", "websocket") else None)
        await self.app(scope, receive, send)

    async def drop_revoked(self, session: dict[str, Any] | None) -> None:
        """The grants of a session whose login was ended, taken away (the live stream calls this
        at its handshake, as it reads the session without the middleware: live/web/app.py)."""
        login_id = session.get(LOGIN_ID) if session else None
        if session and isinstance(login_id, str) and session.get("grants") and await self._revoked(login_id):
            session.pop("grants", None)
            session.pop(LOGIN_ID, None)

    async def _revoked(self, login_id: str) -> bool:
        if login_id in self._known:
            return True
        try:
            revoked = await self._storage.is_login_revoked(login_id)
        except StorageUnavailable:
            log.warning("could not check a login against the revoked ones (storage unavailable)")
            return False
        if revoked:
            self._known.add(login_id)
        return revoked
