"""Simulated HLS players at real pace, for ``hls_bench.py`` (one process of many; a measuring
tool, not part of the service).

    python bench/hls_players.py http://127.0.0.1:8080/api/rooms/main/hls/index.m3u8 500 30 --ramp 10

Each player holds one keep-alive HTTP/1.1 connection and does what a live HLS player does: it
fetches the playlist about once a second (each player on its own phase), the init sections it has
not fetched, and each segment that is new to it, once (at the start only the newest). Bodies are
counted, not kept (playlists are parsed). The client is a few lines over asyncio streams on
uvloop, so that a thousand players fit beside the server on two cores.

It prints ``ready`` once every player has had its first playlist and segment, then plays for the
given seconds and prints one line of JSON: requests and bytes by kind, errors by reason, segments
fetched, segments listed but not fetched in time, and the playlist's and segments' fetch times.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

PLAYLIST_PERIOD = 1.0  # seconds between a player's playlist fetches
CHUNK = 256 * 1024


class HttpError(Exception):
    pass


@dataclass
class Totals:
    requests: Counter[str] = field(default_factory=Counter)
    bytes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    timings: dict[str, list[float]] = field(default_factory=lambda: {"playlist": [], "segment": []})
    missed: int = 0  # segments that left the playlist before this player fetched them

    def report(self) -> dict[str, object]:
        def quantiles(values: list[float]) -> dict[str, float | None]:
            if len(values) < 2:
                return {"p50_ms": None, "p99_ms": None}
            cuts = statistics.quantiles(values, n=100)
            return {"p50_ms": round(cuts[49] * 1000, 1), "p99_ms": round(cuts[98] * 1000, 1)}

        return {
            "requests": dict(self.requests),
            "bytes": dict(self.bytes),
            "errors": dict(self.errors),
            "missed_segments": self.missed,
            "playlist_time": quantiles(self.timings["playlist"]),
            "segment_time": quantiles(self.timings["segment"]),
        }


class Connection:
    """One keep-alive HTTP/1.1 connection; a GET returns (status, body or None, bytes)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, keep: bool) -> tuple[int, bytes | None, int]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
        length = next((int(v) for k, v in headers.items() if k.lower() == "content-length"), None)
        if length is None:
            raise HttpError("no Content-Length")
        body = await self.reader.readexactly(length) if keep else None
        if not keep:
            left = length
            while left:
                chunk = await self.reader.read(min(left, CHUNK))
                if not chunk:
                    raise HttpError("closed mid-body")
                left -= len(chunk)
        if any(k.lower() == "connection" and v.strip().lower() == "close" for k, v in headers.items()):
            self.close()
        return status, body, length

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def listed(playlist: str) -> tuple[list[str], list[str]]:
    """The playlist's init sections (EXT-X-MAP) and segments, in order."""
    inits, segments = [], []
    for line in playlist.splitlines():
        if line.startswith("#EXT-X-MAP:URI="):
            inits.append(line.split('"')[1])
        elif line and not line.startswith("#"):
            segments.append(line)
    return inits, segments


class Player:
    def __init__(self, url: str, totals: Totals) -> None:
        parts = urlsplit(url)
        self.playlist_path = parts.path
        self.directory = parts.path.rsplit("/", 1)[0]
        self.connection = Connection(parts.hostname or "127.0.0.1", parts.port or 80)
        self.totals = totals
        self.fetched: set[str] = set()
        self.newest: str | None = None  # the newest segment fetched
        self.counting = False

    async def fetch(self, kind: str, path: str, keep: bool = False) -> tuple[bool, bytes | None]:
        """Whether it was answered 200, and the body if ``keep``."""
        started = time.monotonic()
        try:
            status, body, size = await self.connection.get(path, keep)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, HttpError, ValueError) as error:
            self.connection.close()
            if self.counting:
                self.totals.errors[f"{kind}: {type(error).__name__}"] += 1
            return False, None
        if self.counting:
            self.totals.requests[kind] += 1
            self.totals.bytes[kind] += size
            if status == 200:
                self.totals.timings[kind if kind != "init" else "segment"].append(time.monotonic() - started)
            else:
                self.totals.errors[f"{kind}: HTTP {status}"] += 1
        return status == 200, body

    async def step(self) -> None:
        ok, body = await self.fetch("playlist", self.playlist_path, keep=True)
        if not ok or body is None:
            return
        inits, segments = listed(body.decode())
        for init in inits:
            if init not in self.fetched and (await self.fetch("init", f"{self.directory}/{init}"))[0]:
                self.fetched.add(init)
        if self.newest is None:
            new = segments[-1:]  # a player starts at the live edge
        elif self.newest in segments:
            new = segments[segments.index(self.newest) + 1 :]
        else:  # fell behind the window (or the source restarted): what it never got is missed
            new = segments
            self.totals.missed += self.counting
        for name in new:
            if (await self.fetch("segment", f"{self.directory}/{name}"))[0]:
                self.newest = name

    async def play(self, delay: float, joined: asyncio.Event, stop: asyncio.Event) -> None:
        """Join after ``delay`` (the first playlist and segment), then play until ``stop``."""
        await asyncio.sleep(delay)
        with contextlib.suppress(Exception):
            await self.step()
        joined.set()
        next_at = time.monotonic() + random.random() * PLAYLIST_PERIOD
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, next_at - time.monotonic()))
                break
            next_at += PLAYLIST_PERIOD
            await self.step()
        self.connection.close()


async def main(url: str, count: int, seconds: float, ramp: float) -> dict[str, object]:
    totals = Totals()
    players = [Player(url, totals) for _ in range(count)]
    joined, stop = [asyncio.Event() for _ in players], asyncio.Event()
    tasks = [  # an audience arriving over ``ramp`` seconds
        asyncio.create_task(player.play(index * ramp / max(count, 1), joined[index], stop))
        for index, player in enumerate(players)
    ]
    for event in joined:
        await event.wait()
    print("ready", flush=True)
    for player in players:
        player.counting = True
    started = time.monotonic()
    await asyncio.sleep(seconds)
    for player in players:
        player.counting = False
    elapsed = time.monotonic() - started
    stop.set()
    await asyncio.gather(*tasks)
    report = totals.report()
    report["players"] = count
    report["seconds"] = round(elapsed, 1)
    report["megabits_per_second"] = round(sum(totals.bytes.values()) * 8 / elapsed / 1e6, 1)
    return report


if __name__ == "__main__":
    import uvloop

    arguments = sys.argv[1:]
    ramp = 10.0
    if "--ramp" in arguments:
        at = arguments.index("--ramp")
        ramp = float(arguments[at + 1])
        del arguments[at : at + 2]
    url, count, seconds = arguments[0], int(arguments[1]), float(arguments[2])
    print(json.dumps(uvloop.run(main(url, count, seconds, ramp))), flush=True)
