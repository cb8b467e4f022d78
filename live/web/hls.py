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

Blocking playlist reload (RFC 8216bis 6.2.5.2; the playlist says ``CAN-BLOCK-RELOAD=YES``):
``index.m3u8?_HLS_msn=M`` is answered once the playlist lists segment M or a later one, at once if
it already does. Whatever answer such a URL got stays a right one (it lists M), so caches keep it
for a few target durations and a cache's request lock makes one request per segment reach the app however
many players wait: a player reloads the moment its next segment exists, never a cached playlist
up to a second old. M more than 2 beyond the newest segment is ``400``; a wait past three target
durations (and 10 s) is ``503``; so are held requests past a bound per process and per room, and
per client address ``429``, so that waiting requests cannot be piled up to exhaust the process.
``_HLS_part`` (there are no partial segments) is checked and then changes nothing, ``_HLS_skip``
(no delta updates are offered) is ignored: the full playlist is answered.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..media.hls import Packager
from ..media.service import MediaService
from .identity import client_address

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
FIRST_SEGMENT_WAIT = 3.0  # seconds a playlist request waits for a source that just started
IMMUTABLE = "public, max-age=86400, immutable"
FILE_NAME = re.compile(r"^(?:init-[0-9a-f]+-\d+\.mp4|[0-9a-f]+-\d+\.m4s)$")
CORS = {"Access-Control-Allow-Origin": "*"}
UNCACHED = {**CORS, "Cache-Control": "no-store"}
DIRECTIVE = re.compile(r"^\d{1,15}$")  # a media sequence or part number: digits only, no sign or blanks
AHEAD = 2  # an _HLS_msn this far beyond the newest segment may be waited for (RFC 8216bis 6.2.5.2)
HOLD_TARGETS = 3  # a blocking reload waits at most this many target durations
MAX_HOLD = 10.0  # and at most this long (seconds), whatever the target (deploy/nginx.conf's timeouts)
BLOCKED_LIFETIME_TARGETS = 3  # target durations a blocking reload's answer may be cached
MAX_HELD = 4000  # blocking reloads waiting at once in this process (behind a cache: one per room)
MAX_HELD_PER_ROOM = 2000
MAX_HELD_PER_ADDRESS = 40  # as many as the live streams an address may open (ratelimit.py)


class Directives(ValueError):
    """A malformed ``_HLS_msn`` or ``_HLS_part``: a 400 whose message says which."""


class Holds:
    """How many blocking reloads wait now: in this process, per room, per client address."""

    def __init__(self) -> None:
        self.total = 0
        self.rooms: Counter[str] = Counter()
        self.addresses: Counter[str] = Counter()

    def refusal(self, room_id: str, address: str, scale: float) -> Response | None:
        """The answer to one more held request over a bound, else None (then ``held`` it)."""
        if self.addresses[address] >= MAX_HELD_PER_ADDRESS * scale:
            return _error("rate_limited", "too many playlist requests waiting from this address", 429, retry=1)
        if self.total >= MAX_HELD or self.rooms[room_id] >= MAX_HELD_PER_ROOM:
            return _error("unavailable", "too many playlist requests waiting; try again", 503, retry=1)
        return None

    @contextmanager
    def held(self, room_id: str, address: str) -> Iterator[None]:
        self.total += 1
        self.rooms[room_id] += 1
        self.addresses[address] += 1
        try:
            yield
        finally:
            self.total -= 1
            for counts, key in ((self.rooms, room_id), (self.addresses, address)):
                counts[key] -= 1
                if counts[key] <= 0:
                    del counts[key]


def _error(code: str, message: str, status: int, retry: int | None = None) -> Response:
    body: dict[str, object] = {"code": code, "message": message}
    headers = dict(UNCACHED)
    if retry is not None:
        body["retry_after"] = retry
        headers["Retry-After"] = str(retry)
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _directive(request: Request, name: str) -> int | None:
    """A delivery directive's value. Its name is matched in any case, as nginx's ``$arg_`` (the
    cache key) does, and a repeated one is refused: the key and the answer must mean one thing."""
    values = [value for key, value in request.query_params.multi_items() if key.lower() == name.lower()]
    if not values:
        return None
    if len(values) > 1 or not DIRECTIVE.match(values[0]):
        raise Directives(f"{name} must be given once, as a whole number")
    return int(values[0])


def _holds(request: Request) -> Holds:
    holds = getattr(request.app.state, "hls_holds", None)
    if holds is None:
        holds = request.app.state.hls_holds = Holds()
    return holds


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
    try:
        msn = _directive(request, "_HLS_msn")
        part = _directive(request, "_HLS_part")
    except Directives as error:
        return _error("invalid", str(error), 400)
    if part is not None and msn is None:
        return _error("invalid", "_HLS_part needs _HLS_msn", 400)
    host = media.hls_host(room_id)
    if host is not None:  # the query too: a blocking reload blocks there
        query = f"?{request.url.query}" if request.url.query else ""
        return _elsewhere(host, room_id, f"index.m3u8{query}")
    media.hls_watched(room_id)
    packager = media.rooms[room_id].hls
    text = await packager.playlist_soon(FIRST_SEGMENT_WAIT)
    if text is not None and msn is not None:
        return await _blocking(request, room_id, packager, msn)
    return _playlist_answer(request, room_id, packager, text)


async def _blocking(request: Request, room_id: str, packager: Packager, msn: int) -> Response:
    """The playlist that lists segment ``msn``, once it does (a blocking reload)."""
    newest = packager.newest
    if newest is not None and msn > newest + AHEAD:
        return _error("invalid", f"_HLS_msn={msn} is too far ahead: the newest segment is {newest}", 400)
    if newest is not None and msn <= newest:
        return _playlist_answer(request, room_id, packager, packager.playlist(), blocking=True)
    holds, address = _holds(request), client_address(request)
    addresses = request.app.state.service.addresses
    refused = holds.refusal(room_id, addresses.key(address), addresses.scale(address))
    if refused is not None:
        return refused
    timeout = min(HOLD_TARGETS * packager.target, MAX_HOLD)
    with holds.held(room_id, addresses.key(address)):
        text = await packager.playlist_with(msn, timeout)
    if text is None and packager.playlist() is not None:
        return _error("unavailable", f"segment {msn} was not made within {timeout:g} s", 503, retry=1)
    return _playlist_answer(request, room_id, packager, text, blocking=True)


def _playlist_answer(
    request: Request, room_id: str, packager: Packager, text: str | None, blocking: bool = False
) -> Response:
    if text is None:
        if packager.source is not None and not packager.packaging:
            return _error("offline", f"this stream's video ({packager.video_codec}) cannot be carried by HLS", 404)
        return _error("offline", "the room is not live now; try again in a few seconds", 404)
    _media(request).hls_served(room_id, "playlist")
    if blocking:  # one answer for this URL, whenever it is asked
        headers = {"Cache-Control": f"public, max-age={BLOCKED_LIFETIME_TARGETS * packager.target}", **CORS}
    else:
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
