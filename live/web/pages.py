"""The pages, one per role: lobby, viewer, moderator, screen, presenter, broadcast, admin, and the
login form; and each session's replay.

Each page is a template in web/templates and a script in web/static named after the role; the
script talks to the room through the live stream (web/static/lib/stream.js).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import segno
from babel.dates import format_skeleton
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..domain.errors import NotAllowed
from ..domain.questions import QuestionStatus
from ..domain.roles import Role, reader_audience
from ..service import Service
from . import identity, logins, replay
from .api import login_refusal, room_view
from .bodies import read_body
from .i18n import LANGUAGE_COOKIE, LANGUAGES, choose_language, script_messages, translations
from .lobby import lobby_view

WEB_DIR = Path(__file__).resolve().parent.parent.parent / "web"
ONE_YEAR = 365 * 24 * 3600
MAX_FORM = 4 * 1024  # the login form: a key of at most 200 characters and the page to go back to


def _environment(language: str) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(WEB_DIR / "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return environment


ENVIRONMENTS = {language: _environment(language) for language in LANGUAGES}


def _service(request: Request) -> Service:
    return request.app.state.service


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    service = _service(request)
    language = choose_language(request, service.event_file.event.default_language)
    identity.participant_id(request)  # give every visitor their anonymous identity on first page
    actor = identity.actor(request)
    page = (
        ENVIRONMENTS[language]
        .get_template(template)
        .render(
            request=request,
            language=language,
            text_language="zh" if language == "zh-CN" else "en",
            event=service.event_file.event,
            rooms=service.event_file.rooms,
            actor=actor,
            is_admin=actor.is_admin,
            messages=script_messages(language),
            # Screens set to show both languages need each catalogue, whatever the page's language.
            messages_for={lang: script_messages(lang) for lang in LANGUAGES},
            path=request.url.path,
            **context,
        )
    )
    response = HTMLResponse(page, status_code=status)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=ONE_YEAR, samesite="lax")
    return response


def room_url(request: Request, room: str) -> str:
    return f"{_service(request).settings.base_url}/r/{room}"


def join_qr_code(url: str) -> str:
    """An inline SVG QR code of a room's URL; it scales with its box (no fixed size)."""
    return str(segno.make(url, error="m").svg_inline(scale=10, dark="#111", light="#fff", omitsize=True))


def _room_or_404(request: Request) -> tuple[Service, Any] | Response:
    service = _service(request)
    room = service.event_file.room(request.path_params["room"])
    if room is None:
        return render(request, "not_found.html", status=404)
    return service, room


def login_redirect(request: Request) -> Response:
    """To the login page, back here after it: the pages (and the report) that need a role."""
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


async def lobby(request: Request) -> Response:
    return _lobby_page(request)


def _lobby_page(request: Request, code: str = "", status: int = 200) -> Response:
    """The lobby (live/web/lobby.py orders it): ``code`` is a room code that matched no room."""
    service = _service(request)
    at = service.clock.now()
    language = choose_language(request, service.event_file.event.default_language)
    admin = identity.actor(request).is_admin
    view = lobby_view(
        service.event_file,
        at,
        lambda room: room_view(service, room, at),
        lambda room, session: replay.available(service, room.slug, session, admin),
    )
    labels = {day.date: _day_label(day.date, language) for day in view.days if day.date is not None}
    return render(request, "lobby.html", status=status, lobby=view, day_labels=labels, unknown_code=code)


def _day_label(date: dt.date, language: str) -> str:
    """ "Tue, September 19" or "9月19日周二", as the reader's language writes a day."""
    return format_skeleton("MMMMEd", date, locale=LANGUAGES[language])


async def join(request: Request) -> Response:
    """The lobby's room-code field: the room whose code this is, in any case (or its URL pasted),
    else the lobby again, saying so."""
    typed = request.query_params.get("code", "").strip()[:200]
    if not typed:  # nothing typed (or the language switched on the lobby after a wrong code)
        language = request.query_params.get("lang")
        return RedirectResponse(f"/?lang={language}" if language in LANGUAGES else "/", status_code=303)
    code = typed.rstrip("/").rsplit("/r/", 1)[-1].split("/", 1)[0].strip()
    rooms = {room.slug.casefold(): room.slug for room in _service(request).event_file.rooms}
    slug = rooms.get(code.casefold())
    if slug is None:
        return _lobby_page(request, code=typed, status=404)
    return RedirectResponse(f"/r/{slug}", status_code=303)


def _replays(request: Request, room: Any) -> list[dict[str, Any]]:
    """The room's sessions that are over and recorded: the "watch the replay" links. Over by the
    agenda's clock too, so that a rehearsal's lobby never offers a replay of what is on now."""
    service = _service(request)
    admin = identity.actor(request).is_admin
    local = service.clock.now().astimezone(service.event_file.zone).replace(tzinfo=None)
    return [
        {"id": session.session_id, "title": session.title.model_dump()}
        for session in room.sessions
        if session.end <= local and replay.available(service, room.slug, session, admin)
    ]


async def _room_page(request: Request, template: str, reader: str, **extra: Any) -> Response:
    """A room's page for one reader (domain/roles.py's READERS): 404 for an unknown room, the
    login form without the role."""
    found = _room_or_404(request)
    if isinstance(found, Response):
        return found
    service, room = found
    try:
        reader_audience(identity.actor(request), room.slug, reader)
    except NotAllowed:
        return login_redirect(request)
    info = room_view(service, room, service.clock.now())
    return render(request, template, room=room, room_info=info, **extra)


async def viewer(request: Request) -> Response:
    found = _room_or_404(request)
    replays = [] if isinstance(found, Response) else _replays(request, found[1])
    return await _room_page(request, "viewer.html", "viewer", replays=replays)


async def replay_page(request: Request) -> Response:
    """A session's replay (live/web/replay.py decides who may watch it): 404 while there is none."""
    found = replay.find(request)
    view = None if isinstance(found, Response) else replay.replay_view(*found)
    if view is None or isinstance(found, Response):
        return render(request, "not_found.html", status=404)
    service, room_id, session, _ = found
    return render(request, "replay.html", room=service.event_file.room(room_id), session=session, replay=view)


async def moderator(request: Request) -> Response:
    return await _room_page(request, "moderator.html", "moderator")


async def screen(request: Request) -> Response:
    room = request.path_params["room"]
    return await _room_page(request, "screen.html", "screen", join_qr=join_qr_code(room_url(request, room)))


async def presenter(request: Request) -> Response:
    """The speaker's view. The event's local time comes with it: the agenda's times are local to
    the event, and the tablet's own clock or time zone may be off."""
    service = _service(request)
    now = service.clock.now().astimezone(service.event_file.zone)
    clock = {"local_now": now.replace(tzinfo=None).isoformat(timespec="seconds"), "now": now.timestamp()}
    return await _room_page(request, "presenter.html", "presenter", event_clock=clock)


async def lobby_screen(request: Request) -> Response:
    """The foyer screen: every room's "join" scene in turn, each with its QR code."""
    service = _service(request)
    if not identity.actor(request).has(Role.SCREEN, "*"):
        return login_redirect(request)
    at = service.clock.now()
    views = []
    for room in service.event_file.rooms:
        info = room_view(service, room, at)
        info["join_qr"] = join_qr_code(info["url"])
        views.append(info)
    return render(request, "lobby_screen.html", room_views=views)


async def broadcast(request: Request) -> Response:
    return await _room_page(request, "broadcast.html", "publisher")


async def admin(request: Request) -> Response:
    service = _service(request)
    if not identity.actor(request).is_admin:
        return login_redirect(request)
    at = service.clock.now()
    rows = []
    for room in service.event_file.rooms:
        state = service.engine.state(room.slug)
        rows.append(
            {
                **room_view(service, room, at),
                "pending": sum(1 for q in state.questions.values() if q.status is QuestionStatus.PENDING),
                "answering": state.questions.get(state.settings.answering_question_id or ""),
                "active_poll": state.polls.get(state.settings.active_poll_id or ""),
            }
        )
    replays = {room.slug: replay.admin_sessions(service, room) for room in service.event_file.rooms}
    recording = service.media.recordings is not None
    return render(request, "admin.html", room_rows=rows, replays=replays, recording=recording)


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


async def login(request: Request) -> Response:
    service = _service(request)
    next_page = _safe_next(request.query_params.get("next"))
    if request.method == "GET":
        return render(request, "login.html", next_page=next_page, failed=False)
    try:
        logins.check_attempt(request)
    except logins.LoginRefused as refused:
        return login_refusal(refused)
    form = dict(parse_qsl((await read_body(request, MAX_FORM)).decode("utf-8", "replace")))
    next_page = _safe_next(form.get("next") or next_page)  # kept through a wrong key: the form posts to /login
    key = form.get("key")
    grants = service.keyring.grants_for(key) if isinstance(key, str) and 0 < len(key) <= 200 else []
    if not grants:
        return render(request, "login.html", status=403, next_page=next_page, failed=True)
    logins.log_in(request, grants)
    return RedirectResponse(next_page, status_code=303)


async def logout(request: Request) -> Response:
    try:
        logins.check_same_site(request)
    except logins.LoginRefused as refused:
        return login_refusal(refused)
    await logins.log_out(request)
    return RedirectResponse("/", status_code=303)


routes = [
    Route("/", lobby),
    Route("/join", join),
    Route("/r/{room}", viewer),
    Route("/r/{room}/moderate", moderator),
    Route("/r/{room}/replay/{session}", replay_page),
    Route("/r/{room}/screen", screen),
    Route("/r/{room}/presenter", presenter),
    Route("/r/{room}/broadcast", broadcast),
    Route("/screen", lobby_screen),
    Route("/admin", admin),
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
]
