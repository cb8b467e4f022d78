"""The Starlette application: routes by role, the session cookie, and the service's lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from base64 import b64decode
from collections.abc import AsyncIterator
from typing import Any

import itsdangerous
from itsdangerous.exc import BadSignature
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import Session, SessionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from .. import metrics
from ..gc_policy import FrozenHeap
from ..service import Service
from . import api, hls, logins, pages, replay, report, video
from .bodies import BodyTooLarge
from .headers import SecurityHeaders, security_headers
from .logins import SESSION_MAX_AGE, RevokedLogins
from .pages import WEB_DIR
from .room_paths import CanonicalRoomPaths
from .stream import room_stream


async def _measure_loop_lag() -> None:
    """How late a 0.5 s timer fires: the first sign that the process is not keeping up."""
    while True:
        started = time.monotonic()
        await asyncio.sleep(0.5)
        metrics.LOOP_LAG.set(max(0.0, time.monotonic() - started - 0.5))


async def _http_error(request: Request, exc: Exception) -> Response:
    """API clients get the same JSON error shape for unknown paths and methods as for refusals."""
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        code = {404: "not_found", 405: "invalid"}.get(exc.status_code, "invalid")
        return api.error(code, str(exc.detail), exc.status_code, dict(exc.headers or {}))
    return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=exc.headers)


async def _too_large(request: Request, exc: Exception) -> Response:
    """A body over its cap (bodies.py), wherever it was read."""
    return api.error("too_large", str(exc), 413)


SESSION_COOKIE = "live_session"
STREAM_PATH = re.compile(r"^/ws/rooms/(?P<room>[^/]+)$")


class StreamSession:
    """The session cookie of a stream's handshake, read as SessionMiddleware reads it (the same
    cookie, signer and maximum age; a bad signature is an empty session) and with revoked logins'
    grants taken away as RevokedLogins does, then done with.

    Through the middleware, each viewer kept for hours its frames, the HTTPConnection with its
    parsed cookies, and the closure around ``send`` that only writes a Set-Cookie on HTTP
    responses (never sent on a WebSocket): about 1 KB a viewer (docs/CAPACITY.md). The stream
    never writes the session, so reading it once is all it needs.
    """

    def __init__(self, secret: str, cookie: str, max_age: int, revoked: RevokedLogins) -> None:
        self._signer = itsdangerous.TimestampSigner(secret)
        self._cookie = cookie
        self._max_age = max_age
        self._revoked = revoked

    async def read(self, scope: Scope) -> None:
        value = HTTPConnection(scope).cookies.get(self._cookie)
        session = Session()
        if value is not None:
            try:
                session = Session(json.loads(b64decode(self._signer.unsign(value.encode(), max_age=self._max_age))))
            except (BadSignature, ValueError):
                session = Session()
        scope["session"] = session
        await self._revoked.drop_revoked(session)


class LiveApp:
    """The site, with the live stream routed around Starlette's middleware stack.

    Everything but the stream goes through Starlette as usual. A stream connection lives for
    hours, and every layer it passes through keeps a coroutine frame for that long: error and
    exception middleware, the router, the route and two exception wrappers, about 2 KB per idle
    viewer (a tenth of what one costs; see docs/CAPACITY.md). The stream needs only the session,
    read once at the handshake (StreamSession), so its call stack is this and the stream's own.
    """

    def __init__(self, site: Starlette, session: StreamSession) -> None:
        self.site = site
        self.state = site.state
        self._session = session

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = STREAM_PATH.match(scope["path"]) if scope["type"] == "websocket" else None
        if match is None:
            await self.site(scope, receive, send)
            return
        scope["app"] = self.site
        scope["path_params"] = {"room": match["room"]}
        await self._session.read(scope)
        await room_stream(WebSocket(scope, receive, send))


async def _favicon(request: Request) -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)


def create_app(service: Service, freeze_heap: bool = False) -> LiveApp:
    """``freeze_heap``: the garbage collector policy of live/gc_policy.py (``live serve``'s)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.engine.start()
        await service.prepare_planned_polls()
        service.hub.start()
        await service.media.start()  # video: WHIP/WHEP sessions, --demo streams
        if service.sampler is not None:
            await service.sampler.start()  # audience samples for the report (live/sampler.py)
        lag = asyncio.create_task(_measure_loop_lag())
        heap = FrozenHeap(service.hub.connection_count) if freeze_heap else None
        if heap is not None:
            heap.start()  # last: what start-up made lives as long as the process
        try:
            yield
        finally:
            lag.cancel()
            if heap is not None:
                await heap.stop()
            if service.sampler is not None:
                await service.sampler.close()
            await service.media.close()
            await service.hub.close()
            await service.engine.close()

    session_options: dict[str, Any] = {
        "secret_key": service.secret,
        "session_cookie": SESSION_COOKIE,
        "max_age": SESSION_MAX_AGE,
        "same_site": "lax",
        "https_only": service.settings.secure_cookies,
    }
    settings = service.settings
    headers = security_headers(settings.secure_cookies, tuple(settings.csp_connect_src.split()))
    app = Starlette(
        routes=[
            *pages.routes,
            *api.routes,
            *video.routes,  # WHIP/WHEP (live/web/video.py)
            *hls.routes,  # video for any player and cache: HLS (live/web/hls.py)
            *replay.routes,  # recordings and each session's replay (live/web/replay.py)
            *report.routes,  # the engagement report, admin only (live/web/report.py)
            Route("/favicon.ico", _favicon),  # what browsers ask for when a page names no icon
            Mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static"),
        ],
        middleware=[
            Middleware(SecurityHeaders, headers=headers),
            Middleware(CanonicalRoomPaths, slugs=[room.slug for room in service.event_file.rooms]),
            Middleware(SessionMiddleware, **session_options),
            Middleware(RevokedLogins, storage=service.engine.storage),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error, BodyTooLarge: _too_large},
    )
    app.state.service = service
    app.state.login_attempts = logins.new_attempt_limiter()
    revoked = RevokedLogins(app, service.engine.storage)  # its own cache of the revocations it saw
    return LiveApp(app, StreamSession(service.secret, SESSION_COOKIE, SESSION_MAX_AGE, revoked))
