"""One load-generator process: opens viewer connections to one room and measures what arrives.

Run by ``stream_bench.py``, one process per slice of the connections, so the generator's own
parsing is spread over cores. It prints one JSON line of results when told to stop (stdin line
"stop") or when its time is up. Loopback only; bounded in connections and time.

Every message the benchmark publishes carries ``bench:<sequence>:<send time in ns>`` in its text,
so a client measures command-to-arrival delay without a shared clock beyond this machine's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import socket
import sys
import time
from typing import Any

import websockets

MARK = re.compile(r"bench:(\d+):(\d+)")


class Viewer:
    def __init__(self, index: int, reading: bool) -> None:
        self.index = index
        self.reading = reading  # a slow consumer stops reading after its snapshot
        self.snapshot_at: float | None = None
        self.sequences: set[int] = set()
        self.delays_ms: list[float] = []
        self.counters = 0
        self.resyncs = 0
        self.failed: str | None = None
        self.closed = False
        self.socket: Any = None


async def _stalled_socket(url: str) -> dict[str, Any]:
    """A stalled phone's connection: a small receive window, as on a weak mobile network."""
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    stalled.setblocking(False)
    host, port = url.split("/")[2].split(":")
    await asyncio.get_running_loop().sock_connect(stalled, (host, int(port)))
    return {"sock": stalled}


async def identity_cookie(url: str) -> str:
    """What a phone gets by opening the room page: a session cookie with its participant id."""
    host, port = url.split("/")[2].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET /api/me HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
    response = (await reader.read()).decode("latin-1")
    writer.close()
    for line in response.split("\r\n"):
        if line.lower().startswith("set-cookie:"):
            return line.split(":", 1)[1].split(";", 1)[0].strip()
    raise RuntimeError("no session cookie")


async def run_viewer(
    viewer: Viewer, url: str, started: float, stop: asyncio.Event, cookie: str | None, identity: bool = True
) -> None:
    if cookie is None and identity:
        try:
            cookie = await identity_cookie(url)
        except (OSError, RuntimeError) as error:
            viewer.failed = type(error).__name__
            viewer.closed = True
            return
    headers = {"Cookie": cookie} if cookie else {}
    extra: dict[str, Any] = {}
    try:
        extra.update(await _stalled_socket(url) if not viewer.reading else {})
    except OSError as error:
        viewer.failed = type(error).__name__
        viewer.closed = True
        return
    try:
        async with websockets.connect(
            url,
            max_size=2**22,
            open_timeout=60,
            ping_interval=None,
            additional_headers=headers,
            compression=None,
            max_queue=1,
            **extra,
        ) as connection:
            viewer.socket = connection
            first = await connection.recv()
            viewer.snapshot_at = time.perf_counter() - started
            del first
            if not viewer.reading:
                await stop.wait()
                return
            async for message in connection:
                text = message if isinstance(message, str) else message.decode()
                found = MARK.search(text)
                if found:
                    sequence, sent_ns = int(found.group(1)), int(found.group(2))
                    if sequence not in viewer.sequences:
                        viewer.sequences.add(sequence)
                        viewer.delays_ms.append((time.time_ns() - sent_ns) / 1e6)
                elif '"counters"' in text[:40]:
                    viewer.counters += 1
                elif '"resync"' in text[:40]:
                    viewer.resyncs += 1
                if stop.is_set():
                    return
    except Exception as error:
        viewer.failed = type(error).__name__
    finally:
        viewer.closed = True


async def vote_from(viewer: Viewer, command: dict[str, Any]) -> None:
    if viewer.socket is not None and not viewer.closed:
        try:
            await viewer.socket.send(json.dumps({"type": "command", "ref": viewer.index, "command": command}))
        except Exception:
            viewer.failed = viewer.failed or "send"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, required=True)
    parser.add_argument("--first-index", type=int, default=0)
    parser.add_argument("--join-seconds", type=float, default=5.0, help="spread the connects over this time")
    parser.add_argument("--slow", type=int, default=0, help="how many of these clients never read")
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--cookie", default=None)
    parser.add_argument(
        "--no-identity", action="store_true", help="connect without a session cookie (the baselines have none)"
    )
    arguments = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    stop = asyncio.Event()
    started = time.perf_counter()
    viewers = [Viewer(arguments.first_index + n, reading=n >= arguments.slow) for n in range(arguments.connections)]
    tasks = []
    gap = arguments.join_seconds / max(1, arguments.connections)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def control() -> None:
        """Commands from the orchestrator: 'stop', or 'vote <json command>' from every viewer."""
        while True:
            line = (await reader.readline()).decode().strip()
            if not line or line == "stop":
                stop.set()
                return
            if line.startswith("vote "):
                command = json.loads(line[5:])
                spread = float(command.pop("_spread", 5.0))
                options = command.pop("_options", None)  # viewer i picks options[i % len(options)]
                for n, viewer in enumerate(viewers):
                    if viewer.reading:
                        own = {**command, "choices": [options[viewer.index % len(options)]]} if options else command
                        loop.call_later(
                            spread * n / len(viewers),
                            lambda v=viewer, c=own: asyncio.ensure_future(vote_from(v, c)),
                        )
            if line == "status":
                ready = sum(1 for v in viewers if v.snapshot_at is not None)
                failed = sum(1 for v in viewers if v.failed)
                print(json.dumps({"ready": ready, "failed": failed}), flush=True)

    control_task = asyncio.create_task(control())
    for viewer in viewers:
        tasks.append(
            asyncio.create_task(
                run_viewer(viewer, arguments.url, started, stop, arguments.cookie, not arguments.no_identity)
            )
        )
        await asyncio.sleep(gap)
    try:
        await asyncio.wait_for(stop.wait(), arguments.max_seconds)
    except TimeoutError:
        stop.set()
    closing = [asyncio.ensure_future(viewer.socket.close()) for viewer in viewers if viewer.socket is not None]
    await asyncio.wait([*tasks, *closing], timeout=10)
    control_task.cancel()
    print(
        json.dumps(
            {
                "viewers": len(viewers),
                "snapshots": [v.snapshot_at for v in viewers],
                "delays_ms": [d for v in viewers if v.reading for d in v.delays_ms],
                "received": [len(v.sequences) for v in viewers if v.reading],
                "counters": [v.counters for v in viewers if v.reading],
                "resyncs": sum(v.resyncs for v in viewers),
                "failed": [v.failed for v in viewers if v.failed],
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main())
