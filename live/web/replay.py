"""Recordings and replays over HTTP (recorded by live/media/recording.py, listed by live/media/replay.py).

    GET  /api/rooms/{room}/recordings                        admins: runs, gaps, disk use
    GET  /api/rooms/{room}/replay/{session}                  what the replay page shows (replay_view)
    GET  /api/rooms/{room}/replay/{session}/index.m3u8       the session's HLS VOD playlist
    GET  /api/rooms/{room}/replay/{session}/{run}/{file}     its segments and init sections
    POST /api/rooms/{room}/replay/{session}/settings         admins: hide it, move its start/end
    GET  /api/rooms/{room}/replay/{session}/download.mp4     admins: the session as one MP4 (remuxed)

A replay is public once its session is over (its end, moved by the admin's offset, has passed)
and not hidden; admins may watch it at any time. Recorded files never change: any cache may keep
them (immutable); the playlist may still grow while the session runs, so it is not cached.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import asdict
from typing import Any

import av
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from ..config import Room, Session
from ..domain.errors import CommandRefused
from ..media import download, replay
from ..media.recording import Recordings, gaps
from ..media.replay import Range
from ..service import Service
from . import api, identity
from .hls import PLAYLIST_TYPE

RUN_NAME = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]+$")
FILE_NAME = re.compile(r"^(?:init-[0-9a-f]+-\d+\.mp4|[0-9a-f]+-\d+\.m4s)$")
IMMUTABLE = "public, max-age=86400, immutable"


def _error(code: str, message: str, status: int) -> Response:
    return api.error(code, message, status)


def _service(request: Request) -> Service:
    return request.app.state.service


def _recordings(service: Service) -> Recordings | None:
    return service.media.recordings


def _is_admin(request: Request) -> bool:
    return identity.actor(request).is_admin


def session_range(service: Service, room_id: str, session: Session) -> Range:
    recordings = _recordings(service)
    assert recordings is not None
    return replay.session_range(recordings, service.event_file.zone, room_id, session)


def available(service: Service, room_id: str, session: Session, admin: bool = False) -> bool:
    """Whether the session has a replay this reader may watch: over (or an admin), not hidden
    (or an admin), and something was recorded during it. The lobby's "watch the replay" links."""
    recordings = _recordings(service)
    if recordings is None:
        return False
    span = session_range(service, room_id, session)
    if not admin and (span.settings.hidden or not span.over):
        return False
    return bool(replay.select(recordings, room_id, span.start, span.end))


def admin_sessions(service: Service, room: Room) -> list[dict[str, Any]]:
    """Each agenda session of the room as the admin page's replay form shows it: its times, the
    admin's settings, whether it is over, and how much of it was recorded (seconds, 0 for none)."""
    recordings = _recordings(service)
    rows = []
    for session in room.sessions:
        row: dict[str, Any] = {"id": session.session_id, "title": session.title.model_dump(),
                               "start": session.start, "end": session.end}  # fmt: skip
        if recordings is not None:
            span = session_range(service, room.slug, session)
            recorded = replay.duration(replay.select(recordings, room.slug, span.start, span.end))
            row.update(asdict(span.settings), over=span.over, recorded=recorded)
        rows.append(row)
    return rows


def replay_view(service: Service, room_id: str, session: Session, span: Range) -> dict[str, Any] | None:
    """The replay page's data: the session, its playlist, and its moments in order (each question
    highlighted or answered during it, at the first of those; each poll when it opened, with its
    final result as the public sees it), placed in seconds from the replay's start; None when
    nothing was recorded."""
    assert service.media.recordings is not None
    listed = replay.select(service.media.recordings, room_id, span.start, span.end)
    if not listed:
        return None
    state = service.engine.state(room_id)
    moments: list[dict[str, Any]] = []
    for question in state.questions.values():
        when = question.highlighted_at or question.answered_at
        if question.status.is_public and when is not None and span.start <= when <= span.end:
            moments.append({"kind": "question", "time": when, "question": question.public_view()})
    for poll in state.polls.values():
        if poll.opened_at is not None and span.start <= poll.opened_at <= span.end:
            view = poll.public_view(state.poll_tally(poll.id), state.poll_leaders(poll.id))
            moments.append({"kind": "poll", "time": poll.opened_at, "poll": view})
    moments.sort(key=lambda item: float(item["time"]))
    for item in moments:
        item["at"] = replay.position(listed, item["time"])
    base = f"/api/rooms/{room_id}/replay/{session.session_id}"
    return {
        "room": room_id,
        "session": {"id": session.session_id, **(api.session_view(session, service.event_file.zone) or {})},
        "playlist": f"{base}/index.m3u8",
        "start": listed[0].segment.start,
        "duration": replay.duration(listed),
        "moments": [item for item in moments if item["at"] is not None],
    }


def find(request: Request) -> tuple[Service, str, Session, Range] | Response:
    """The room, session and range a replay request names, or the error to answer (the page's too)."""
    service = _service(request)
    room = service.event_file.room(request.path_params["room"])
    session = room.session(request.path_params["session"]) if room is not None else None
    if room is None or session is None or _recordings(service) is None:
        return _error("not_found", "no such room or session in this event", 404)
    span = session_range(service, room.slug, session)
    if not _is_admin(request) and (span.settings.hidden or not span.over):
        return _error("not_found", "this session has no replay (yet)", 404)
    return service, room.slug, session, span


async def recordings_list(request: Request) -> Response:
    service = _service(request)
    room_id = request.path_params["room"]
    if not service.has_room(room_id):
        return _error("not_found", "no such room in this event", 404)
    if not _is_admin(request):
        return _error("forbidden", "log in as the admin first", 403)
    recordings = _recordings(service)
    runs = recordings.runs(room_id) if recordings is not None else []
    return JSONResponse(
        {
            "room": room_id,
            "runs": [
                {"run": run.name, "start": run.start, "end": round(run.end, 3), "segments": len(run.segments)}
                for run in runs
            ],
            "gaps": gaps(runs),
            "bytes": recordings.disk_use(room_id) if recordings is not None else 0,  # every process's
        }
    )


async def replay_info(request: Request) -> Response:
    found = find(request)
    if isinstance(found, Response):
        return found
    service, room_id, session, span = found
    view = replay_view(service, room_id, session, span)
    if view is None:
        return _error("not_found", "nothing was recorded during this session", 404)
    return JSONResponse(view, headers={"Cache-Control": "no-cache"})


async def replay_playlist(request: Request) -> Response:
    found = find(request)
    if isinstance(found, Response):
        return found
    service, room_id, _, span = found
    assert service.media.recordings is not None
    listed = replay.select(service.media.recordings, room_id, span.start, span.end)
    if not listed:
        return _error("not_found", "nothing was recorded during this session", 404)
    return Response(replay.vod_playlist(listed), media_type=PLAYLIST_TYPE, headers={"Cache-Control": "no-cache"})


async def replay_file(request: Request) -> Response:
    found = find(request)
    if isinstance(found, Response):
        return found
    service, room_id, _, span = found
    run, name = request.path_params["run"], request.path_params["file"]
    if not RUN_NAME.match(run) or not FILE_NAME.match(name):
        return _error("not_found", "no such file", 404)
    assert service.media.recordings is not None
    listed = replay.select(service.media.recordings, room_id, span.start, span.end)
    if not any(item.run == run and name in (item.segment.file, item.segment.init) for item in listed):
        return _error("not_found", "no such file in this session's replay", 404)
    path = replay.run_files(service.media.recordings, room_id, run) / name
    return FileResponse(path, media_type="video/mp4", headers={"Cache-Control": IMMUTABLE})


async def replay_download(request: Request) -> Response:
    """The session as one MP4, remuxed on a thread into a file beside the recordings (removed once
    sent): a long session is hundreds of megabytes, never held in memory."""
    found = find(request)
    if isinstance(found, Response):
        return found
    service, room_id, session, span = found
    if not _is_admin(request):
        return _error("forbidden", "log in as the admin first", 403)
    recordings = service.media.recordings
    assert recordings is not None
    listed = replay.select(recordings, room_id, span.start, span.end)
    if not listed:
        return _error("not_found", "nothing was recorded during this session", 404)
    room_dir = recordings.room_dir(room_id)
    output = room_dir / f".download-{secrets.token_hex(4)}.mp4"
    try:
        await asyncio.to_thread(download.remux, room_dir, listed, output)
    except (OSError, av.FFmpegError) as error:
        output.unlink(missing_ok=True)
        return _error("unavailable", f"the download could not be made: {error}", 503)
    name = f"{room_id}-{session.session_id}.mp4"
    return FileResponse(
        output,
        media_type="video/mp4",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        background=BackgroundTask(output.unlink, missing_ok=True),
    )


async def replay_settings(request: Request) -> Response:
    found = find(request)
    if isinstance(found, Response):
        return found
    service, room_id, session, _ = found
    if not _is_admin(request):
        return _error("forbidden", "log in as the admin first", 403)
    try:  # JSON only, as commands: a cross-site form cannot send it
        settings = replay.ReplaySettings.parse(await api.json_body(request))
    except CommandRefused as refused:
        return _error(refused.code, refused.message, 400)
    except ValueError as error:
        return _error("invalid", str(error), 400)
    assert service.media.recordings is not None
    replay.save_settings(service.media.recordings, room_id, session.session_id, settings)
    return JSONResponse({"session": session.session_id, **asdict(settings)})


routes = [
    Route("/api/rooms/{room}/recordings", recordings_list),
    Route("/api/rooms/{room}/replay/{session}", replay_info),
    Route("/api/rooms/{room}/replay/{session}/index.m3u8", replay_playlist),
    Route("/api/rooms/{room}/replay/{session}/settings", replay_settings, methods=["POST"]),
    Route("/api/rooms/{room}/replay/{session}/download.mp4", replay_download),
    Route("/api/rooms/{room}/replay/{session}/{run}/{file}", replay_file),
]
