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
import base64
import contextlib
import json
import os
import re
import resource
import socket
import sys
import time
from typing import Any

import websockets

MARK = re.compile(rb"bench:(\d+):(\d+)")
WINDOW = 1_000_000  # sequences from ``w * WINDOW`` on belong to measurement window ``w`` (fanout_bench.py)


class Viewer:
    """One phone: what it received, and how late."""

    def __init__(self, index: int, reading: bool) -> None:
        self.index = index
        self.reading = reading  # a slow consumer stops reading after its snapshot
        self.snapshot_at: float | None = None
        self.sequences: set[int] = set()
        self.delays_ms: list[float] = []
        self.counters = 0
        self.resyncs = 0
        self.windows: dict[int, list[Any]] = {}  # window -> [messages, bytes, delays in ms]
        self.replies: dict[str, int] = {}  # answers to this viewer's commands: "ack" or the error code
        self.failed: str | None = None
        self.closed = False
        self.socket: Any = None  # a websockets connection, or a RawClient

    def received(self, message: bytes) -> None:
        found = MARK.search(message)
        if found:
            sequence, sent_ns = int(found.group(1)), int(found.group(2))
            if sequence not in self.sequences:
                self.sequences.add(sequence)
                delay = (time.time_ns() - sent_ns) / 1e6
                self.delays_ms.append(delay)
                window = self.windows.get(sequence // WINDOW)
                if window is None:
                    window = self.windows[sequence // WINDOW] = [0, 0, []]
                window[0] += 1
                window[1] += len(message)
                window[2].append(delay)
        elif b'"counters"' in message[:40]:
            self.counters += 1
        elif message.startswith(b'{"type":"ack"'):
            self.replies["ack"] = self.replies.get("ack", 0) + 1
        elif message.startswith(b'{"type":"error"'):
            code = str(json.loads(message).get("code"))
            self.replies[code] = self.replies.get(code, 0) + 1
        elif b'"resync"' in message[:40]:
            self.resyncs += 1


class RawClient(asyncio.Protocol):
    """A WebSocket client written for this benchmark: a handshake, unmasked server frames parsed
    straight from the receive buffer, pongs, masked client frames. It costs a few microseconds a
    message, where a general client (websockets) costs several times that; on a machine whose
    cores the server shares with the load generator, a costly client is what the figures measure.
    """

    def __init__(self, viewer: Viewer, request: bytes, started: float) -> None:
        self.viewer = viewer
        self.request = request
        self.started = started
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.buffer = bytearray()
        self.fragments: list[bytes] = []
        self.handshaking = True
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not asyncio.Transport
        transport.write(self.request)

    def connection_lost(self, error: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(error or ConnectionError("closed during the handshake"))
        if not self.lost.done():
            self.lost.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.handshaking:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[:12])
            del self.buffer[: end + 4]
            if status != b"HTTP/1.1 101":
                self.opened.set_exception(ConnectionError(status.decode("latin-1")))
                assert self.transport is not None
                self.transport.close()
                return
            self.handshaking = False
            self.opened.set_result(None)
        self._read_frames()

    def _read_frames(self) -> None:
        buffer, position, end = self.buffer, 0, len(self.buffer)
        while end - position >= 2:
            first, length = buffer[position], buffer[position + 1] & 0x7F
            header = 2
            if length == 126:
                if end - position < 4:
                    break
                length, header = int.from_bytes(buffer[position + 2 : position + 4], "big"), 4
            elif length == 127:
                if end - position < 10:
                    break
                length, header = int.from_bytes(buffer[position + 2 : position + 10], "big"), 10
            if end - position < header + length:
                break
            payload = bytes(buffer[position + header : position + header + length])
            position += header + length
            self._frame(first & 0x80, first & 0x0F, payload)
        del buffer[:position]

    def _frame(self, final: int, opcode: int, payload: bytes) -> None:
        if opcode == 0x9:
            self.send(0xA, payload)
        elif opcode == 0x8:
            self.send(0x8, payload[:2])
            assert self.transport is not None
            self.transport.close()
        elif opcode in (0x0, 0x1, 0x2):
            self.fragments.append(payload)
            if final:
                message = self.fragments[0] if len(self.fragments) == 1 else b"".join(self.fragments)
                self.fragments = []
                self.message(message)

    def message(self, message: bytes) -> None:
        viewer = self.viewer
        if viewer.snapshot_at is None:
            viewer.snapshot_at = time.perf_counter() - self.started
            if not viewer.reading:
                assert self.transport is not None
                self.transport.pause_reading()  # a stalled phone: reads nothing more
            return
        viewer.received(message)

    def send(self, opcode: int, payload: bytes) -> None:
        """Clients mask what they send (RFC 6455 5.3)."""
        if self.transport is None or self.transport.is_closing():
            return
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = bytes([0x80 | opcode, 0x80 | length])
        elif length < 65536:
            header = bytes([0x80 | opcode, 0x80 | 126]) + length.to_bytes(2, "big")
        else:
            header = bytes([0x80 | opcode, 0x80 | 127]) + length.to_bytes(8, "big")
        repeated = (mask * (length // 4 + 1))[:length]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(length, "big")
        self.transport.write(header + mask + masked)

    async def close(self) -> None:
        self.send(0x8, (1000).to_bytes(2, "big"))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.lost), 2)
        if self.transport is not None:
            self.transport.close()


async def run_raw_viewer(
    viewer: Viewer, url: str, started: float, stop: asyncio.Event, cookie: str | None, identity: bool = True
) -> None:
    try:
        if cookie is None and identity:
            cookie = await identity_cookie(url)
        host, port = url.split("/")[2].split(":")
        path = "/" + url.split("/", 3)[3]
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            + (f"Cookie: {cookie}\r\n" if cookie else "")
            + "\r\n"
        ).encode()
        loop = asyncio.get_running_loop()
        client = RawClient(viewer, request, started)
        if viewer.reading:
            await loop.create_connection(lambda: client, host, int(port))
        else:
            stalled = (await _stalled_socket(url))["sock"]
            await loop.create_connection(lambda: client, sock=stalled)
        await asyncio.wait_for(client.opened, 60)
        viewer.socket = client
        await asyncio.wait([asyncio.ensure_future(stop.wait()), client.lost], return_when=asyncio.FIRST_COMPLETED)
    except Exception as error:
        viewer.failed = type(error).__name__
    finally:
        viewer.closed = True


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
                viewer.received(message.encode() if isinstance(message, str) else message)
                if stop.is_set():
                    return
    except Exception as error:
        viewer.failed = type(error).__name__
    finally:
        viewer.closed = True


async def vote_from(viewer: Viewer, command: dict[str, Any]) -> None:
    if viewer.socket is not None and not viewer.closed:
        text = json.dumps({"type": "command", "ref": viewer.index, "command": command})
        try:
            if isinstance(viewer.socket, RawClient):
                viewer.socket.send(0x1, text.encode())
            else:
                await viewer.socket.send(text)
        except Exception:
            viewer.failed = viewer.failed or "send"


def _replies(viewers: list[Viewer]) -> dict[str, int]:
    """How the server answered the viewers' commands (a vote refused is a vote a phone retries)."""
    merged: dict[str, int] = {}
    for viewer in viewers:
        for kind, count in viewer.replies.items():
            merged[kind] = merged.get(kind, 0) + count
    return merged


def _windows(viewers: list[Viewer]) -> dict[int, dict[str, Any]]:
    """Per measurement window: messages received, their bytes, and every delay."""
    merged: dict[int, dict[str, Any]] = {}
    for viewer in viewers:
        for window, (messages, size, delays) in viewer.windows.items():
            into = merged.setdefault(window, {"received": 0, "bytes": 0, "delays_ms": []})
            into["received"] += messages
            into["bytes"] += size
            into["delays_ms"] += delays
    return merged


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
        "--client", choices=["raw", "websockets"], default="raw", help="raw: this file's lean client (RawClient)"
    )
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
                after = float(command.pop("_after", 0.0))  # seconds to wait first (one storm round after another)
                options = command.pop("_options", None)  # viewer i picks options[i % len(options)]
                for n, viewer in enumerate(viewers):
                    if viewer.reading:
                        own = {**command, "choices": [options[viewer.index % len(options)]]} if options else command
                        loop.call_later(
                            after + spread * n / len(viewers),
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
                (run_raw_viewer if arguments.client == "raw" else run_viewer)(
                    viewer, arguments.url, started, stop, arguments.cookie, not arguments.no_identity
                )
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
                "windows": _windows(viewers),
                "replies": _replies(viewers),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    # uvloop (it comes with uvicorn[standard], which the server runs on too) halves the event
    # loop's own cost per received message, the bulk of what the raw client spends.
    import uvloop

    uvloop.run(main())
