"""Baseline 1: a bare ``websockets`` server using ``broadcast()``, the practical Python limit.

Viewers connect to ``/``, get a small snapshot, then every message published on ``/publish`` is
broadcast to all of them, as the websockets documentation recommends (no backpressure, no
per-client task). Written the way that library's users would write it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource

from websockets.asyncio.server import ServerConnection, broadcast, serve

viewers: set[ServerConnection] = set()
SNAPSHOT = json.dumps({"type": "snapshot", "room": {"questions": [], "polls": []}})


async def handler(connection: ServerConnection) -> None:
    if connection.request is not None and connection.request.path == "/publish":
        async for message in connection:
            broadcast(viewers, message)
        return
    viewers.add(connection)
    try:
        await connection.send(SNAPSHOT)
        await connection.wait_closed()
    finally:
        viewers.discard(connection)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    async with serve(handler, "127.0.0.1", arguments.port, compression=None, backlog=4096, max_size=2**16):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
