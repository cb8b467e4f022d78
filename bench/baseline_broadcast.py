"""Baseline 1: a bare ``websockets`` server using ``broadcast()``, the practical Python limit.

Viewers connect to ``/``, get a small snapshot, then every message published on ``/publish`` is
broadcast to all of them, as the websockets documentation recommends (no backpressure, no
per-client task). Written the way that library's users would write it.

``--loop uvloop`` runs it on the event loop ``live serve`` gets from uvicorn (uvloop, when
installed, as it is here): the fair comparison of the fan-out code itself, and the default in
``fanout_bench.py``. ``--loop asyncio`` is ``asyncio.run``, what the library's examples do; it
costs more per delivery, so a comparison against it flatters us (docs/CAPACITY.md).
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


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    return parser.parse_args()


async def main(port: int) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    async with serve(handler, "127.0.0.1", port, compression=None, backlog=4096, max_size=2**16):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    given = arguments()
    if given.loop == "uvloop":
        import uvloop

        uvloop.run(main(given.port))
    else:
        asyncio.run(main(given.port))
