"""The stream's handshake reads the session cookie itself (live/web/app.py, StreamSession), as
SessionMiddleware would: same cookie and signature, a bad or expired one is an empty session, and
a revoked login's grants are taken away."""

from __future__ import annotations

import json
import time
from base64 import b64encode
from typing import Any
from unittest import mock

import itsdangerous
from starlette.middleware.sessions import Session

from live.web.app import SESSION_COOKIE, StreamSession
from live.web.logins import LOGIN_ID, RevokedLogins

SECRET = "a-secret-long-enough-for-the-tests-0123456789"


class Revocations:
    def __init__(self, revoked: set[str]) -> None:
        self.revoked = revoked

    async def is_login_revoked(self, login_id: str) -> bool:
        return login_id in self.revoked


def signed(session: dict[str, Any], secret: str = SECRET) -> str:
    """The cookie SessionMiddleware writes for ``session``."""
    return itsdangerous.TimestampSigner(secret).sign(b64encode(json.dumps(session).encode())).decode()


async def read(cookie: str | None, revoked: set[str] = set()) -> Session:  # noqa: B006 (read only)
    reader = StreamSession(SECRET, SESSION_COOKIE, 3600, RevokedLogins(None, Revocations(revoked)))  # type: ignore[arg-type]
    headers = [(b"cookie", f"other=1; {SESSION_COOKIE}={cookie}".encode())] if cookie is not None else []
    scope: dict[str, Any] = {"type": "websocket", "headers": headers}
    await reader.read(scope)
    assert isinstance(scope["session"], Session)
    return scope["session"]


async def test_the_stream_reads_the_cookie_that_session_middleware_signed() -> None:
    session = {"pid": "p1", "name": "Ada", "grants": [["moderator", "main", "k"]], LOGIN_ID: "login-1"}
    assert await read(signed(session)) == session
    assert await read(None) == {}


async def test_a_bad_or_expired_cookie_is_an_empty_session() -> None:
    assert await read(signed({"pid": "p1"}, secret="another-secret-entirely-0123456789")) == {}
    assert await read("not-a-cookie") == {}
    assert await read(signed({"pid": "p1"})[:-3] + "abc") == {}
    old = signed({"pid": "p1"})
    with mock.patch("time.time", return_value=time.time() + 7200):  # older than the maximum age
        assert await read(old) == {}


async def test_a_revoked_login_loses_its_grants_on_the_stream() -> None:
    session = {"pid": "p1", "grants": [["moderator", "main", "k"]], LOGIN_ID: "login-1"}
    assert await read(signed(session), revoked={"login-1"}) == {"pid": "p1"}
    assert await read(signed(session), revoked={"login-2"}) == session
