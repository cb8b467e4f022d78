"""The Starlette application: routes by role, the session cookie, and the service's lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from .. import metrics
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


STREAM_PATH = re.compile(r"^/ws/rooms/(?P<room>[^/]+)$")


class LiveApp:
    """The site, with the live stream routed around Starlette's middleware stack.

    Everything but the stream goes through Starlette as usual. A stream connection lives for
    hours, and every layer it passes through keeps a coroutine frame for that long: error and
    exception middleware, the router, the route and two exception wrappers, about 2 KB per idle
    viewer (a tenth of what one costs; see docs/CAPACITY.md). The stream needs only the session.
    """

    def __init__(self, site: Starlette, session: Callable[[ASGIApp], ASGIApp]) -> None:
        self.site = site
        self.state = site.state
        self._stream = session(self._run_stream)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = STREAM_PATH.match(scope["path"]) if scope["type"] == "websocket" else None
        if match is None:
            await self.site(scope, receive, send)
            return
        scope["app"] = self.site
        scope["path_params"] = {"room": match["room"]}
        await self._stream(scope, receive, send)

    async def _run_stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        await room_stream(WebSocket(scope, receive, send))


async def _favicon(request: Request) -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)


def create_app(service: Service) -> LiveApp:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.engine.start()
        await service.prepare_planned_polls()
        service.hub.start()
        await service.media.start()  # video: WHIP/WHEP sessions, --demo streams
        if service.sampler is not None:
            await service.sampler.start()  # audience samples for the report (live/sampler.py)
        lag = asyncio.create_task(_measure_loop_lag())
        try:
            yield
        finally:
            lag.cancel()
            if service.sampler is not None:
                await service.sampler.close()
            await service.media.close()
            await service.hub.close()
            await service.engine.close()

    session_options: dict[str, Any] = {
        "secret_key": service.secret,
        "session_cookie": "live_session",
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
    return LiveApp(
        app,
        lambda inner: SessionMiddleware(RevokedLogins(inner, service.engine.storage), **session_options),
    )
