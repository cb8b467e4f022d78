"""A room's HLS: its live playlist, init sections and segments (packaged by live/media/hls.py).

    GET /api/rooms/{room}/hls/index.m3u8          the live media playlist (H.264 + AAC, muxed)
    GET /api/rooms/{room}/hls/{run}-{n}.m4s        a segment
    GET /api/rooms/{room}/hls/init-{run}-{k}.mp4   an init section

Caching (docs/VIDEO.md): segments and init sections are never renamed or rewritten, so any cache
may keep them for a day. The playlist changes every second: clients and CDNs may keep it one
second at most (``s-maxage=1``, the smallest a CDN takes), and nginx until the end of the current
second (``X-Accel-Expires``, half a second on average; it must come before ``Cache-Control``,
which nginx 1.22 would otherwise read first and obey). A room whose publisher reached another
process is answered with a redirect there, like WHEP; the shipped nginx follows it itself.
"""

from __future__ import annotations

import re
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..media.service import MediaService

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
FIRST_SEGMENT_WAIT = 3.0  # seconds a playlist request waits for a source that just started
IMMUTABLE = "public, max-age=86400, immutable"
FILE_NAME = re.compile(r"^(?:init-[0-9a-f]+-\d+\.mp4|[0-9a-f]+-\d+\.m4s)$")
CORS = {"Access-Control-Allow-Origin": "*"}
UNCACHED = {**CORS, "Cache-Control": "no-store"}


def _error(code: str, message: str, status: int) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=UNCACHED)


def _media(request: Request) -> MediaService:
    return request.app.state.service.media


def _elsewhere(url: str, room_id: str, name: str) -> Response:
    location = f"{url.rstrip('/')}/api/rooms/{room_id}/hls/{name}"
    return Response(status_code=307, headers={**UNCACHED, "Location": location})


async def playlist(request: Request) -> Response:
    room_id = request.path_params["room"]
    media = _media(request)
    if room_id not in media.rooms:
        return _error("not_found", "no such room in this event", 404)
    host = media.hls_host(room_id)
    if host is not None:
        return _elsewhere(host, room_id, "index.m3u8")
    media.hls_watched(room_id)
    packager = media.rooms[room_id].hls
    text = await packager.playlist_soon(FIRST_SEGMENT_WAIT)
    if text is None:
        if packager.source is not None and not packager.packaging:
            return _error("offline", f"this stream's video ({packager.video_codec}) cannot be carried by HLS", 404)
        return _error("offline", "the room is not live now; try again in a few seconds", 404)
    media.hls_served(room_id, "playlist")
    headers = {"X-Accel-Expires": f"@{int(time.time())}", "Cache-Control": "public, max-age=0, s-maxage=1", **CORS}
    return Response(text, media_type=PLAYLIST_TYPE, headers=headers)


async def media_file(request: Request) -> Response:
    room_id, name = request.path_params["room"], request.path_params["name"]
    media = _media(request)
    if room_id not in media.rooms or not FILE_NAME.match(name):
        return _error("not_found", "no such room or file", 404)
    data = media.rooms[room_id].hls.files.get(name)
    if data is None:
        host = media.hls_host(room_id)
        if host is not None:
            return _elsewhere(host, room_id, name)
        return _error("not_found", "no such segment: it has left the playlist, or never was in it", 404)
    media.hls_served(room_id, "init" if name.startswith("init-") else "segment")
    return Response(data, media_type="video/mp4", headers={"Cache-Control": IMMUTABLE, **CORS})


routes = [
    Route("/api/rooms/{room}/hls/index.m3u8", playlist),
    Route("/api/rooms/{room}/hls/{name}", media_file),
]
