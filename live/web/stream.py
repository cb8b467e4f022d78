"""The live stream of a room over WebSocket: snapshot or resume on connect, then events; commands
travel the other way on the same socket. Every message is documented in docs/API.md."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import math
import time
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from .. import protocol
from ..domain.errors import CommandRefused
from ..domain.roles import Actor, Audience, reader_audience
from ..engines.storage import OutcomeUnknown, Position, StorageUnavailable
from ..outbox import Connection, DirectConnection
from ..protocol import encode
from ..service import Service
from . import identity
from .frames import frame_writer
from .origin import same_origin_stream

log = logging.getLogger(__name__)

MAX_MESSAGE = 16 * 1024  # larger text frames are answered with an error; the socket stays open


def _error(code: str, message: str, ref: object = None, **detail: object) -> str:
    return encode(protocol.error(code, message, ref, **detail))


def _resume_position(websocket: WebSocket) -> Position | None:
    """Where the client asks to resume; anything but an epoch and ASCII digits is no resume (a
    snapshot). ``"²".isdigit()`` is true, hence the explicit check."""
    epoch, offset = websocket.query_params.get("epoch"), websocket.query_params.get("offset")
    if not epoch or offset is None or len(epoch) > 64 or len(offset) > 18:
        return None
    if not (offset.isascii() and offset.isdigit()):
        return None
    return Position(epoch, int(offset))


async def _refuse(websocket: WebSocket, code: str, message: str, **detail: object) -> None:
    await websocket.accept()
    await websocket.send_text(_error(code, message, **detail))
    await websocket.close(protocol.CLOSE_CODES[code])


async def room_stream(websocket: WebSocket) -> None:
    service: Service = websocket.app.state.service
    room_id = websocket.path_params["room"]
    if not service.has_room(room_id):
        await _refuse(websocket, "not_found", f"no room {room_id!r} in this event")
        return
    if not same_origin_stream(websocket):
        await _refuse(websocket, "forbidden", "cross-site connections are not allowed")
        return
    actor = identity.actor(websocket)  # the session as it was at the handshake, for the whole connection
    role_name = websocket.query_params.get("as", "viewer")
    try:
        audience = reader_audience(actor, room_id, role_name)
    except CommandRefused as refused:
        await _refuse(websocket, refused.code, refused.message)
        return
    address = identity.client_address(websocket)
    wait = service.addresses.open_stream(address, time.monotonic())
    if wait:
        seconds = max(1, math.ceil(wait))
        await _refuse(websocket, "rate_limited", "too many live connections from your address", retry_after=seconds)
        return
    try:
        await _stream(websocket, service, room_id, actor, audience, role_name, address)
    finally:
        service.addresses.close_stream(address)


async def _stream(
    websocket: WebSocket, service: Service, room_id: str, actor: Actor, audience: Audience, role_name: str, address: str
) -> None:
    await websocket.accept()
    close = websocket.close  # a bound method, not a closure and its cell, kept per viewer
    limit = service.settings.outbox_limit
    frames = frame_writer(websocket)  # uvicorn with LiveWebSocketProtocol: write frames directly
    connection: Connection = (
        DirectConnection(room_id, audience, role_name, frames, close, limit)
        if frames is not None
        else Connection(room_id, audience, role_name, websocket.send_text, close, limit)
    )
    connection.display_name = actor.display_name
    service.hub.attach(connection, actor.participant_id, _resume_position(websocket))
    writer = connection.start()
    websocket.scope["headers"].clear()  # read already (origin, cookie); kept for hours otherwise, per client
    websocket.scope.pop("session", None)  # read already (the actor); the stream never writes it
    try:
        while not connection.closed:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            await _handle(service, connection, room_id, actor, address, message)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        service.hub.detach(connection)
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer


async def _handle(
    service: Service, connection: Connection, room_id: str, actor: Actor, address: str, message: Any
) -> None:
    text = message.get("text")
    if text is None:
        connection.push(_error("invalid", "send JSON text frames, not binary"))
        return
    if len(text) > MAX_MESSAGE or len(text.encode("utf-8")) > MAX_MESSAGE:
        connection.push(_error("too_large", f"messages are limited to {MAX_MESSAGE} bytes"))
        return
    try:
        request = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested thousands deep
        connection.push(_error("bad_json", "the message is not valid JSON"))
        return
    if not isinstance(request, dict):
        connection.push(_error("invalid", "a message is a JSON object with a 'type'"))
        return
    ref = request.get("ref") if isinstance(request.get("ref"), str | int) else None
    kind = request.get("type")
    if kind == "ping":
        connection.push(encode(protocol.pong(ref)))
    elif kind == "command":
        try:
            key = request.get("idempotency_key")
            named = actor  # renamed since the handshake? (a copy only then: this runs for every vote)
            if connection.display_name != actor.display_name:
                named = dataclasses.replace(actor, display_name=connection.display_name)
            result = await service.run_command(room_id, named, request.get("command"), key, address)
        except CommandRefused as refused:
            connection.push(_error(refused.code, refused.message, ref, **refused.detail))
        except StorageUnavailable as error:
            connection.push(_error("unavailable", str(error), ref))
        except OutcomeUnknown as error:
            connection.push(_error("unknown_outcome", str(error), ref))
        else:
            connection.push(encode(protocol.ack(ref, result)))
    else:
        connection.push(_error("unknown_type", f"unknown message type {str(kind)[:40]!r}", ref))
