"""The engagement report, for the admin only: a page per event or room (charts by
web/static/report.js), and the same figures as JSON and CSV.

    GET /admin/report[?day=YYYY-MM-DD | ?session=ROOM/SESSION]      every room
    GET /admin/report/{room}[?day=... | ?session=ROOM/SESSION]      one room
    GET /api/report.{json,csv}, /api/rooms/{room}/report.{json,csv}  the same figures

The figures are live/report.py's; this module only gathers what they are made from: each room's
state, its stored log and its audience samples.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import report
from ..config import Room
from ..domain.errors import InvalidInput
from ..engines.samples import SAMPLE_INTERVAL
from ..engines.storage import StoredEvent
from ..service import Service
from . import identity
from .api import error
from .pages import login_redirect, render

READ_PAGE = 1000  # events read from storage at a time
SAMPLE_MARGIN = 24 * 3600.0  # samples read on each side of the window, to date the events in it


def _service(request: Request) -> Service:
    return request.app.state.service


def _is_admin(request: Request) -> bool:
    return identity.actor(request).is_admin  # as the admin page checks it


def _rooms(service: Service, request: Request) -> list[Room] | None:
    """The rooms asked for: one by the path, else the session's, else all; None for a room not in
    the event."""
    slug = request.path_params.get("room")
    session_room = service.event_file.room(request.query_params.get("session", "").partition("/")[0])
    if slug is None:
        return [session_room] if session_room is not None else list(service.event_file.rooms)
    room = service.event_file.room(slug)
    return None if room is None else [room]


def window(service: Service, request: Request) -> report.Window:
    """The day (the event's today by default) or the agenda session asked for; InvalidInput for
    a day that is not a date or a session that is not in the agenda."""
    zone = service.event_file.zone
    chosen_session = request.query_params.get("session")
    if chosen_session:
        slug, _, session_id = chosen_session.partition("/")
        room = service.event_file.room(slug)
        session = room.session(session_id) if room else None
        if room is None or session is None:
            raise InvalidInput(f"no session {chosen_session!r} in the agenda (write ROOM/SESSION-ID)")
        return report.session_window(room, session, zone)
    chosen_day = request.query_params.get("day")
    try:
        day = dt.date.fromisoformat(chosen_day) if chosen_day else dt.datetime.now(zone).date()
        return report.day_window(day, zone)
    except (ValueError, OverflowError):  # OverflowError: 9999-12-31, whose end no date can hold
        raise InvalidInput(f"{chosen_day!r} is not a day: write it as YYYY-MM-DD") from None


async def _stored_log(service: Service, room_id: str) -> list[StoredEvent]:
    """The room's log as far back as the storage keeps it (see engines/storage.py)."""
    events: list[StoredEvent] = []
    while True:
        page = await service.engine.storage.read_after(room_id, events[-1].offset if events else 0, READ_PAGE)
        events.extend(page)
        if len(page) < READ_PAGE:
            return events


async def gather(service: Service, rooms: list[Room], chosen: report.Window) -> dict[str, Any]:
    """Every figure of the rooms, for the page, the JSON and the CSV alike."""
    now = time.time()
    zone = service.event_file.zone
    sampler = service.sampler
    interval = sampler.interval if sampler is not None else SAMPLE_INTERVAL
    figures = []
    for room in rooms:
        samples = []
        if sampler is not None:
            samples = await sampler.store.read(room.slug, chosen.start - SAMPLE_MARGIN, chosen.end + SAMPLE_MARGIN)
        events = await _stored_log(service, room.slug)
        state = service.engine.state(room.slug)
        figures.append(
            {
                **report.room_report(state, events, samples, chosen, now, zone, interval),
                "name": room.name.model_dump(),
            }
        )
    return {
        "event": service.event_file.event.slug,
        "window": {"kind": chosen.kind, "id": chosen.id, "start": chosen.start, "end": chosen.end},
        "timezone": service.event_file.event.timezone,
        "sampling_interval": interval,
        "sampling": sampler is not None,
        "made_at": now,
        "rooms": figures,
    }


async def report_page(request: Request) -> Response:
    service = _service(request)
    if not _is_admin(request):
        return login_redirect(request)
    rooms = _rooms(service, request)
    if rooms is None:
        return render(request, "not_found.html", status=404)
    zone = service.event_file.zone
    days = report.report_days(service.event_file, dt.datetime.now(zone).date())
    offered = rooms if "room" in request.path_params else service.event_file.rooms  # in the session list
    sessions = [
        {"id": f"{room.slug}/{s.session_id}", "room": room, "session": s} for room in offered for s in room.sessions
    ]
    context: dict[str, Any] = {"days": days, "sessions": sessions, "one_room": rooms[0] if len(rooms) == 1 else None}
    try:
        chosen = window(service, request)
    except InvalidInput as invalid:
        return render(request, "report.html", status=400, problem=invalid.message, figures=None, **context)
    figures = await gather(service, rooms, chosen)
    query = f"{chosen.kind}={chosen.id}"
    return render(request, "report.html", problem=None, figures=figures, query=query, **context)


async def report_data(request: Request) -> Response:
    service = _service(request)
    if not _is_admin(request):
        return error("forbidden", "log in as the admin first", 403)
    rooms = _rooms(service, request)
    if rooms is None:
        return error("not_found", "no such room in this event", 404)
    fmt = request.path_params["format"]
    if fmt not in ("csv", "json"):
        return error("not_found", "ask for report.csv or report.json", 404)
    try:
        chosen = window(service, request)
    except InvalidInput as invalid:
        return error(invalid.code, invalid.message, 400)
    figures = await gather(service, rooms, chosen)
    name = f"{request.path_params.get('room', service.event_file.event.slug)}-report-{chosen.id.replace('/', '-')}"
    disposition = {"content-disposition": f'attachment; filename="{name}.{fmt}"'}
    if fmt == "csv":
        return Response(report.to_csv(figures), media_type="text/csv; charset=utf-8", headers=disposition)
    return JSONResponse(figures, headers=disposition)


routes = [
    Route("/admin/report", report_page),
    Route("/admin/report/{room}", report_page),
    Route("/api/report.{format}", report_data),
    Route("/api/rooms/{room}/report.{format}", report_data),
]
