"""Baseline 2: the naive Starlette loop on uvicorn, fed by Redis pub/sub.

``for ws in room: await ws.send_json(event)``: what most tutorials write. Viewers connect to
``/ws``; the benchmark publishes events on the Redis channel ``bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

room: set[WebSocket] = set()


async def viewer(websocket: WebSocket) -> None:
    await websocket.accept()
    room.add(websocket)
    try:
        await websocket.send_json({"type": "snapshot", "room": {"questions": [], "polls": []}})
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        room.discard(websocket)


async def relay(url: str) -> None:
    client = aioredis.Redis.from_url(url)
    pubsub = client.pubsub()
    await pubsub.subscribe("bench")
    async for message in pubsub.listen():
        if message["type"] != "message":
            continue
        event = json.loads(message["data"])
        for websocket in list(room):
            with contextlib.suppress(Exception):
                await websocket.send_json(event)


def create_app(url: str) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(relay(url))
        yield
        task.cancel()

    return Starlette(routes=[WebSocketRoute("/ws", viewer)], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    arguments = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print("ready", flush=True)
    uvicorn.run(create_app(arguments.redis), host="127.0.0.1", port=arguments.port, log_level="warning",
                ws_per_message_deflate=False, backlog=4096)  # fmt: skip


if __name__ == "__main__":
    main()
