"""The JSON API under /api/, plus /healthz and /metrics. Every route is listed in docs/API.md."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..config import Room, Session, now_and_next, utc_offset_label
from ..domain.errors import CommandRefused, InvalidInput, RateLimited
from ..domain.projection import snapshot
from ..domain.questions import QuestionStatus
from ..domain.roles import Role, reader_audience
from ..engines.storage import OutcomeUnknown, StorageUnavailable
from ..export import poll_results, polls_to_csv, question_rows, to_csv
from ..media.replay import moment_in_replay
from ..protocol import HTTP_STATUS, error_body
from ..service import Service
from . import identity, logins
from .bodies import read_body

MAX_BODY = 16 * 1024


def error(
    code: str,
    message: str,
    status: int | None = None,
    headers: dict[str, str] | None = None,
    detail: dict[str, object] | None = None,
) -> JSONResponse:
    """The API's one error response (its shape: live/protocol.py); the status follows the code
    unless given."""
    status = status or HTTP_STATUS.get(code, 400)
    return JSONResponse(error_body(code, message, **(detail or {})), status_code=status, headers=headers)


def _service(request: Request) -> Service:
    return request.app.state.service


async def json_body(request: Request) -> Any:
    """The request's JSON body, bounded while read (BodyTooLarge: 413); InvalidInput otherwise."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise InvalidInput("send the body as application/json")
    body = await read_body(request, MAX_BODY)  # BodyTooLarge: 413 (app.py)
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested thousands deep
        raise InvalidInput("the body is not valid JSON") from None


def session_view(session: Session | None, zone: ZoneInfo) -> dict[str, Any] | None:
    if session is None:
        return None
    return {
        "title": session.title.model_dump(),
        "start": session.start.isoformat(),
        "end": session.end.isoformat(),
        "zone": utc_offset_label(zone, session.start),  # start and end are the event's local times
        "speakers": [speaker.model_dump() for speaker in session.speakers],
    }


def room_view(service: Service, room: Room, at: dt.datetime) -> dict[str, Any]:
    zone = service.event_file.zone
    current, upcoming = now_and_next(room, zone, at)
    state = service.engine.state(room.slug)
    return {
        "slug": room.slug,
        "kind": room.kind,
        "name": room.name.model_dump(),
        "topic": room.topic.model_dump() if room.topic else None,
        "location": room.location.model_dump() if room.location else None,
        "screen_language": room.screen_language,
        "url": f"{service.settings.base_url}/r/{room.slug}",
        "now": session_view(current, zone),
        "next": session_view(upcoming, zone),
        "sessions": [session_view(s, zone) for s in room.sessions],
        "moderation": state.settings.moderation.value,
        "connections": service.hub.count(room.slug),
    }


async def event_info(request: Request) -> Response:
    service = _service(request)
    at = service.clock.now()
    event = service.event_file.event
    return JSONResponse(
        {
            "slug": event.slug,
            "name": event.name.model_dump(),
            "venue": event.venue.model_dump(),
            "start_date": event.start_date.isoformat(),
            "end_date": event.end_date.isoformat(),
            "timezone": event.timezone,
            "rooms": [room_view(service, room, at) for room in service.event_file.rooms],
        }
    )


async def room_info(request: Request) -> Response:
    service = _service(request)
    room = service.event_file.room(request.path_params["room"])
    if room is None:
        return error("not_found", "no such room in this event", 404)
    actor = identity.actor(request)
    try:
        audience = reader_audience(actor, room.slug, request.query_params.get("as", "viewer"))
    except CommandRefused as refused:
        return error(refused.code, refused.message)
    position = service.engine.position(room.slug)
    view = room_view(service, room, service.clock.now())
    view["live"] = {
        "epoch": position.epoch,
        "offset": position.offset,
        **snapshot(service.engine.state(room.slug), audience, actor.participant_id),
    }
    return JSONResponse(view)


async def run_command(request: Request) -> Response:
    service = _service(request)
    room_id = request.path_params["room"]
    try:
        payload = await json_body(request)
        key = request.headers.get("idempotency-key")
        address = identity.client_address(request)
        result = await service.run_command(room_id, identity.actor(request), payload, key, address)
    except CommandRefused as refused:
        return refusal(refused)
    except StorageUnavailable as unavailable:
        return error("unavailable", str(unavailable))
    except OutcomeUnknown as unknown:
        return error("unknown_outcome", str(unknown))
    return JSONResponse(result)


def refusal(refused: CommandRefused) -> JSONResponse:
    response = error(refused.code, refused.message, detail=refused.detail)
    if isinstance(refused, RateLimited):  # for HTTP clients; pages read retry_after
        response.headers["retry-after"] = str(refused.retry_after)
    return response


async def me(request: Request) -> Response:
    """The caller's identity, minted on the first call (as many per address as it may: 429 after)."""
    wait = identity.mint_wait(request)
    if wait:
        return refusal(RateLimited(wait))
    actor = identity.actor(request)
    if request.method == "POST":
        try:
            payload = await json_body(request)
            name = payload.get("display_name") if isinstance(payload, dict) else None
            if name is not None and not isinstance(name, str):
                raise InvalidInput("display_name must be text")
            name = identity.set_display_name(request, name)
        except CommandRefused as refused:
            return error(refused.code, refused.message, 400)
        actor = identity.actor(request)
        _service(request).hub.rename(actor.participant_id, name)  # the streams already open, too
    return JSONResponse(
        {
            "participant_id": actor.participant_id,
            "display_name": actor.display_name,
            "grants": [{"role": role.value, "room": room} for role, room in sorted(actor.grants)],
        }
    )


async def login(request: Request) -> Response:
    service = _service(request)
    try:
        logins.check_attempt(request)
    except logins.LoginRefused as refused:
        return login_refusal(refused)
    try:
        payload = await json_body(request)
    except CommandRefused as refused:
        return error(refused.code, refused.message, 400)
    key = payload.get("key") if isinstance(payload, dict) else None
    if not isinstance(key, str) or not key.strip() or len(key) > 200:
        return error("invalid", 'send {"key": "..."}', 400)
    grants = service.keyring.grants_for(key)
    if not grants:
        return error("forbidden", "this key is not valid for this event", 403)
    logins.log_in(request, grants)
    return JSONResponse({"grants": [{"role": g.role.value, "room": g.room} for g, _ in grants]})


def login_refusal(refused: logins.LoginRefused) -> Response:
    """A cross-site or too frequent login or logout, as the API's JSON error (pages too)."""
    headers = {"retry-after": str(refused.retry_after)} if refused.retry_after else None
    detail: dict[str, object] | None = {"retry_after": refused.retry_after} if refused.retry_after else None
    return error(refused.code, refused.message, headers=headers, detail=detail)


async def logout(request: Request) -> Response:
    try:
        logins.check_same_site(request)
    except logins.LoginRefused as refused:
        return login_refusal(refused)
    await logins.log_out(request)
    return JSONResponse({"ok": True})


async def _export(request: Request, room_ids: list[str], name: str) -> Response:
    """Questions or poll results (by the path) of some rooms, as a CSV or JSON download."""
    service = _service(request)
    states = [service.engine.state(room_id) for room_id in room_ids]
    fmt = request.path_params["format"]
    what = "polls" if "/polls/" in request.url.path else "questions"
    disposition = {"content-disposition": f'attachment; filename="{name}-{what}.{fmt}"'}
    if fmt not in ("csv", "json"):
        return error("not_found", "export as .csv or .json", 404)
    if what == "polls":
        polls = poll_results(states, service.event_file.zone)
        poll_id = request.path_params.get("poll")
        if poll_id is not None:  # one poll's results
            polls = [poll for poll in polls if poll["poll_id"] == poll_id]
            if not polls:
                return error("not_found", "no such poll in this room", 404)
            disposition = {"content-disposition": f'attachment; filename="{name}-poll-{poll_id}.{fmt}"'}
        if fmt == "csv":
            return Response(polls_to_csv(polls), media_type="text/csv; charset=utf-8", headers=disposition)
        return JSONResponse({"polls": polls}, headers=disposition)
    rows = question_rows(states, service.event_file.zone, _replay_link(service))
    if fmt == "csv":
        return Response(to_csv(rows), media_type="text/csv; charset=utf-8", headers=disposition)
    return JSONResponse({"questions": rows}, headers=disposition)


def _replay_link(service: Service) -> Callable[[str, float], str | None] | None:
    """Where a room's moment is in its session's replay (live/media/replay.py), as a page address."""
    recordings = service.media.recordings
    if recordings is None:
        return None
    selected: dict[tuple[str, str], Any] = {}  # each session's segments, looked up once per export

    def link(room_id: str, moment: float) -> str | None:
        room = service.event_file.room(room_id)
        found = moment_in_replay(recordings, service.event_file.zone, room, moment, selected) if room else None
        if found is None:
            return None
        return f"{service.settings.base_url}/r/{room_id}/replay/{found[0]}?t={int(found[1])}"

    return link


async def export_room(request: Request) -> Response:
    service = _service(request)
    room_id = request.path_params["room"]
    if not service.has_room(room_id):
        return error("not_found", "no such room in this event", 404)
    if not identity.actor(request).moderates(room_id):
        return error("forbidden", "log in as a moderator of this room first", 403)
    return await _export(request, [room_id], room_id)


async def export_event(request: Request) -> Response:
    service = _service(request)
    if not identity.actor(request).has(Role.MODERATOR, "*"):
        return error("forbidden", "log in as the admin or an event-wide moderator first", 403)
    return await _export(request, [room.slug for room in service.event_file.rooms], service.event_file.event.slug)


async def admin_overview(request: Request) -> Response:
    """Every room at a glance, with its pending questions, for the admin console."""
    service = _service(request)
    if not identity.actor(request).is_admin:
        return error("forbidden", "log in as the admin first", 403)
    rooms = []
    for room in service.event_file.rooms:
        state = service.engine.state(room.slug)
        pending = [q for q in state.questions.values() if q.status is QuestionStatus.PENDING]
        answering = state.questions.get(state.settings.answering_question_id or "")
        poll = state.polls.get(state.settings.active_poll_id or "")
        rooms.append(
            {
                "slug": room.slug,
                "name": room.name.model_dump(),
                "connections": service.hub.count(room.slug),
                "video": service.media.overview(room.slug),  # live, publisher, viewers (docs/VIDEO.md)
                "moderation": state.settings.moderation.value,
                "pending_count": len(pending),
                "pending": [q.moderator_view() for q in sorted(pending, key=lambda q: q.asked_at)[:50]],
                "answering": answering.public_view() if answering else None,
                "active_poll": {"id": poll.id, "question": poll.question, "status": poll.status.value}
                if poll
                else None,
            }
        )
    return JSONResponse({"rooms": rooms})


async def healthz(request: Request) -> Response:
    service = _service(request)
    health = await service.engine.health()  # no file paths or addresses: /healthz is public
    return JSONResponse(health, status_code=200 if health.get("ok") else 503)


async def metrics(request: Request) -> Response:
    """Prometheus text, for the metrics key as a Bearer token (a scraper's `authorization`
    setting) or a logged-in admin: room names and audience sizes are not for everyone."""
    if not _may_read_metrics(request):
        refused = error("unauthorized", "send the metrics key as 'Authorization: Bearer KEY'", 401)
        refused.headers["www-authenticate"] = 'Bearer realm="metrics"'
        return refused
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _may_read_metrics(request: Request) -> bool:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and key.strip():
        return any(grant.role in (Role.METRICS, Role.ADMIN) for grant, _ in _service(request).keyring.grants_for(key))
    actor = identity.actor(request)
    return actor.is_admin or actor.has(Role.METRICS, "*")


routes = [
    Route("/api/event", event_info),
    Route("/api/rooms/{room}", room_info),
    Route("/api/rooms/{room}/commands", run_command, methods=["POST"]),
    Route("/api/me", me, methods=["GET", "POST"]),
    Route("/api/rooms/{room}/export.{format}", export_room),
    Route("/api/export.{format}", export_event),
    Route("/api/rooms/{room}/polls/export.{format}", export_room),
    Route("/api/rooms/{room}/polls/{poll}/export.{format}", export_room),
    Route("/api/polls/export.{format}", export_event),
    Route("/api/admin/overview", admin_overview),
    Route("/api/login", login, methods=["POST"]),
    Route("/api/logout", logout, methods=["POST"]),
    Route("/healthz", healthz),
    Route("/metrics", metrics),
]
