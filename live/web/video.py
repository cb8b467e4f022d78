"""WHIP (RFC 9725) and WHEP endpoints of each room, with CORS so that tools and pages on other
origins can use them.

    POST   /api/rooms/{room}/whip          offer in, 201 + answer + Location   (publisher key)
    DELETE /api/rooms/{room}/whip/{id}     end the stream
    POST   /api/rooms/{room}/whep          offer in, 201 + answer + Location   (anyone)
    DELETE /api/rooms/{room}/whep/{id}     stop watching
    GET    /api/rooms/{room}/video         {"live": ..., "publisher": ..., "viewers": n}

Errors use the API's JSON shape (docs/API.md); docs/VIDEO.md lists every status.
"""

from __future__ import annotations

import math
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..domain.roles import Role
from ..media.offer import MAX_OFFER_BYTES, Offer, OfferRefused, read_offer
from ..media.service import Busy, Elsewhere, MediaService, Offline
from ..service import Service
from . import api, identity
from .bodies import BodyTooLarge, read_body

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, DELETE, PATCH, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match",
    "Access-Control-Expose-Headers": "Location, Link, ETag, Accept-Post",
    "Access-Control-Max-Age": "86400",
}


PRIVATE_PUBLISHER_FIELDS = ("software", "process")


def _error(code: str, message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return api.error(code, message, status, {**CORS, **(headers or {})})


def _service(request: Request) -> Service:
    return request.app.state.service


def _room_media(request: Request) -> tuple[str, MediaService] | Response:
    """The path's room and every room's video, or the 404 for a room not in the event."""
    room_id, media = request.path_params["room"], _service(request).media
    if room_id not in media.rooms:
        return _error("not_found", "no such room in this event", 404)
    return room_id, media


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def may_publish(request: Request, room_id: str) -> bool:
    """The room's publisher key or the admin key as a Bearer token, or a session that logged in
    with one (the broadcast page)."""
    token = _bearer(request)
    if token is not None:
        grants = _service(request).keyring.grants_for(token) if len(token) <= 200 else []
        return any(g.role in (Role.PUBLISHER, Role.ADMIN) and g.room in (room_id, "*") for g, _ in grants)
    return identity.actor(request).has(Role.PUBLISHER, room_id)


async def _offer(request: Request, sending: bool) -> Offer | Response:
    """The checked offer, or an error response (415, 413, 400)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/sdp":
        return _error("unsupported_media_type", "send the offer as application/sdp", 415)
    try:
        allow_private = _service(request).settings.ice_private_candidates
        return read_offer(await read_body(request, MAX_OFFER_BYTES), sending, allow_private)
    except BodyTooLarge as too_large:
        return _error("too_large", str(too_large), 413)
    except OfferRefused as refused:
        return _error("invalid", str(refused), 400)


def _created(request: Request, kind: str, session_id: str, answer: str) -> Response:
    location = f"/api/rooms/{request.path_params['room']}/{kind}/{session_id}"
    return Response(answer, status_code=201, media_type="application/sdp", headers={**CORS, "Location": location})


async def options(request: Request) -> Response:
    """CORS preflight and WHIP/WHEP discovery: no ICE servers to announce (no Link header)."""
    return Response(status_code=204, headers={**CORS, "Accept-Post": "application/sdp"})


async def whip(request: Request) -> Response:
    found = _room_media(request)
    if isinstance(found, Response):
        return found
    room_id, media = found
    if not may_publish(request, room_id):
        return _error(
            "unauthorized", "send the room's publisher key as a Bearer token", 401, {"WWW-Authenticate": "Bearer"}
        )
    offer = await _offer(request, sending=True)
    if isinstance(offer, Response):
        return offer
    try:
        session_id, answer = await media.publish(room_id, offer, request.headers.get("user-agent", "")[:120])
    except OfferRefused as refused_offer:
        return _error("invalid", str(refused_offer), 400)
    return _created(request, "whip", session_id, answer)


async def whep(request: Request) -> Response:
    found = _room_media(request)
    if isinstance(found, Response):
        return found
    room_id, media = found
    address = identity.client_address(request)
    venue = _service(request).addresses.in_venue_network(address)  # thousands of phones behind it
    wait = 0.0 if venue else media.limiter.allow(address, "whep", time.monotonic())
    if wait:  # playback is public: bound what one address can make the server set up
        seconds = math.ceil(wait)
        return _error(
            "rate_limited",
            f"too many players from this address: try again in {seconds} s",
            429,
            {"Retry-After": str(seconds)},
        )
    offer = await _offer(request, sending=False)
    if isinstance(offer, Response):
        return offer
    try:
        session_id, answer = await media.play(room_id, offer, None if venue else address)
    except Elsewhere as elsewhere:
        target = f"{elsewhere.url.rstrip('/')}/api/rooms/{room_id}/whep"
        return Response(status_code=307, headers={**CORS, "Location": target})
    except Offline:
        return _error("offline", "the room is not live now; its event stream says when it is", 409)
    except Busy as busy:
        return _error(busy.code, str(busy), 503, {"Retry-After": "3"})
    except OfferRefused as refused_offer:
        return _error("invalid", str(refused_offer), 400)
    return _created(request, "whep", session_id, answer)


async def end_session(request: Request) -> Response:
    found = _room_media(request)
    if isinstance(found, Response):
        return found
    room_id, media = found
    session_id = request.path_params["session"]
    if request.url.path.split("/")[-2] == "whip":
        ended = await media.stop_publishing(room_id, session_id)
    else:
        ended = await media.stop_playing(room_id, session_id)
    if not ended:
        return _error("not_found", "no such session (it may have ended already)", 404)
    return Response(status_code=200, headers=CORS)


async def patch_session(request: Request) -> Response:
    """Neither trickle ICE nor ICE restarts: both sides send every candidate up front."""
    return _error("invalid", "trickle ICE and ICE restarts are not supported", 405, {"Allow": "DELETE, OPTIONS"})


async def video_status(request: Request) -> Response:
    found = _room_media(request)
    if isinstance(found, Response):
        return found
    room_id, media = found
    moderator = identity.actor(request).moderates(room_id)
    overview = media.overview(room_id, recording=moderator)  # a public endpoint: no disk reads for it
    publisher = overview.get("publisher")
    if not moderator:
        # the publisher's software (its User-Agent) and process URL are for the room's moderators,
        # and so is the recording (its error names the server's directories)
        overview.pop("recording", None)
        if isinstance(publisher, dict):
            overview["publisher"] = {k: v for k, v in publisher.items() if k not in PRIVATE_PUBLISHER_FIELDS}
    return JSONResponse({**overview, **media.status(room_id)}, headers=CORS)


routes = [
    Route("/api/rooms/{room}/whip", whip, methods=["POST"]),
    Route("/api/rooms/{room}/whep", whep, methods=["POST"]),
    Route("/api/rooms/{room}/whip", options, methods=["OPTIONS"]),
    Route("/api/rooms/{room}/whep", options, methods=["OPTIONS"]),
    Route("/api/rooms/{room}/whip/{session}", end_session, methods=["DELETE"]),
    Route("/api/rooms/{room}/whep/{session}", end_session, methods=["DELETE"]),
    Route("/api/rooms/{room}/whip/{session}", patch_session, methods=["PATCH"]),
    Route("/api/rooms/{room}/whep/{session}", patch_session, methods=["PATCH"]),
    Route("/api/rooms/{room}/whip/{session}", options, methods=["OPTIONS"]),
    Route("/api/rooms/{room}/whep/{session}", options, methods=["OPTIONS"]),
    Route("/api/rooms/{room}/video", video_status),
]
