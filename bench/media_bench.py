"""How much a video viewer costs the server: forwarding (live serve) against naive per-viewer
encoding (aiortc's MediaRelay over a decoded source), in the same run, on loopback.

    .venv/bin/python bench/media_bench.py --viewers 100 --naive-viewers 6 --seconds 20

For each server it starts FFmpeg publishing 640x360 at 25 fps, ~1 Mbit/s (H.264 baseline, a
keyframe a second, plus Opus) over WHIP, measures the server's CPU with the publisher alone, then
starts the viewers in other processes (aiortc, counting encoded frames without decoding, so they
measure the server and not themselves) and measures again. Printed per server: CPU per viewer
(the increase over the publisher alone, divided by viewers), viewers per core, frames per second
each viewer received, and the time from the WHEP request to the first video frame.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from stream_bench import event_file_with_loopback_venue  # beside this script

REPO = Path(__file__).resolve().parent.parent
KEY = "bench-publisher-key-for-media"  # 16 characters at least: live serve refuses weaker keys
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


TEST_PATTERN = ("-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25")  # FFmpeg's video input


def publisher(
    whip_url: str, seconds: float, video_input: tuple[str, ...] = TEST_PATTERN, stdin: int = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """FFmpeg publishing ``video_input`` (another benchmark passes frames of its own through
    ``stdin``) and a sine tone, encoded as a venue's encoder would, to a WHIP endpoint."""
    import imageio_ffmpeg

    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error",
               *video_input, "-f", "lavfi", "-i", "sine=frequency=440",
               "-c:v", "libx264", "-profile:v", "baseline", "-preset", "ultrafast", "-tune", "zerolatency",
               "-g", "25", "-bf", "0", "-b:v", "1M", "-maxrate", "1M", "-bufsize", "500k",
               "-c:a", "libopus", "-b:a", "48k", "-ar", "48000", "-ac", "2",
               "-t", str(seconds), "-f", "whip", "-authorization", KEY, whip_url]  # fmt: skip
    return subprocess.Popen(command, stdin=stdin)


# -- viewers (a separate process) ---------------------------------------------------------------
async def watch(url: str, count: int, seconds: float) -> dict[str, Any]:
    import httpx
    from whep_watcher import Watcher  # beside this script

    watchers = [Watcher(url) for _ in range(count)]
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        statuses = []

        async def join(index: int) -> int:
            for _attempt in range(3):  # a loaded loopback server may drop a pooled HTTP connection
                try:
                    return await watchers[index].start(client)
                except httpx.HTTPError:
                    await watchers[index].stop()
                    watchers[index] = Watcher(url)
            return 0

        for batch in range(0, count, 10):  # an audience arriving, not a thundering herd
            statuses += await asyncio.gather(*(join(i) for i in range(batch, min(batch + 10, count))))
        await asyncio.sleep(2)  # everybody connected and past their first keyframe
        print("ready", flush=True)  # the parent measures the server's CPU from now
        before = [w.video_frames for w in watchers]
        await asyncio.sleep(seconds)
        rates = [(w.video_frames - b) / seconds for w, b in zip(watchers, before, strict=True)]
        for w in watchers:
            await w.stop(client)
    firsts = sorted(w.first_frame for w in watchers if w.first_frame is not None)
    return {
        "started": statuses.count(201),
        "fps": statistics.mean(rates) if rates else 0.0,
        "fps_min": min(rates, default=0.0),
        "first_frame_median": statistics.median(firsts) if firsts else None,
        "first_frame_max": max(firsts, default=None),
        "without_picture": count - len(firsts),
    }


# -- the naive server: decode once, encode per viewer -------------------------------------------
def naive_server(port: int) -> None:
    import uvicorn
    from aiortc import RTCPeerConnection, RTCSessionDescription
    from aiortc.contrib.media import MediaRelay
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    relay = MediaRelay()
    sources: dict[str, Any] = {}
    connections: set[RTCPeerConnection] = set()

    async def answer(pc: RTCPeerConnection, request: Request, kind: str) -> Response:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=(await request.body()).decode(), type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        connections.add(pc)
        location = f"/{kind}/{id(pc)}"
        return Response(pc.localDescription.sdp, 201, media_type="application/sdp", headers={"Location": location})

    async def whip(request: Request) -> Response:
        pc = RTCPeerConnection()
        pc.on("track", lambda track: sources.__setitem__(track.kind, track))
        return await answer(pc, request, "whip")

    async def whep(request: Request) -> Response:
        pc = RTCPeerConnection()
        for track in sources.values():
            pc.addTrack(relay.subscribe(track))
        return await answer(pc, request, "whep")

    async def delete(request: Request) -> Response:
        for pc in list(connections):
            if str(id(pc)) == request.path_params["id"]:
                connections.discard(pc)
                await pc.close()
        return Response(status_code=200)

    async def health(request: Request) -> Response:
        return Response("ok")

    app = Starlette(
        routes=[
            Route("/whip", whip, methods=["POST"]),
            Route("/whep", whep, methods=["POST"]),
            Route("/{kind}/{id}", delete, methods=["DELETE"]),
            Route("/healthz", health),
        ]
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


# -- one measured run ----------------------------------------------------------------------------
def viewer_processes(url: str, viewers: int, processes: int, seconds: float) -> list[subprocess.Popen[bytes]]:
    shares = [viewers // processes + (1 if i < viewers % processes else 0) for i in range(processes)]
    return [
        subprocess.Popen(
            [sys.executable, __file__, "viewers", url, str(share), str(seconds)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        for share in shares
        if share
    ]


def measure(
    name: str, server_pid: int, whip: str, whep: str, viewers: int, processes: int, seconds: float
) -> dict[str, Any]:
    source = publisher(whip, seconds + 60)
    try:
        time.sleep(4)  # connected, steady
        idle_start, idle_at = cpu_seconds(server_pid), time.monotonic()
        time.sleep(5)
        idle = (cpu_seconds(server_pid) - idle_start) / (time.monotonic() - idle_at)
        watchers = viewer_processes(whep, viewers, processes, seconds)
        for process in watchers:
            assert process.stdout is not None and process.stdout.readline().strip() == b"ready"
        start, at = cpu_seconds(server_pid), time.monotonic()
        time.sleep(seconds * 0.8)
        busy = (cpu_seconds(server_pid) - start) / (time.monotonic() - at)
        reports = []
        for process in watchers:
            out, _ = process.communicate(timeout=seconds + 120)
            reports.append(json.loads(out.decode().strip().splitlines()[-1]))
    finally:
        source.terminate()
        source.wait()
    started = sum(r["started"] for r in reports)
    firsts = [r["first_frame_median"] for r in reports if r["first_frame_median"] is not None]
    per_viewer = (busy - idle) / max(started, 1)
    return {
        "server": name,
        "viewers": started,
        "cpu_publisher_only": round(idle, 3),
        "cpu_with_viewers": round(busy, 3),
        "cpu_per_viewer": round(per_viewer, 4),
        "viewers_per_core": round(1 / per_viewer, 1) if per_viewer > 0 else None,
        "fps_mean": round(statistics.mean(r["fps"] for r in reports), 1),
        "fps_min": round(min(r["fps_min"] for r in reports), 1),
        "first_frame_median_s": round(statistics.median(firsts), 3) if firsts else None,
        "first_frame_max_s": max((r["first_frame_max"] or 0) for r in reports),
        "without_picture": sum(r["without_picture"] for r in reports),
    }


def run(arguments: argparse.Namespace) -> None:
    results = []
    with tempfile.TemporaryDirectory() as data:
        port = free_port()
        env = {**os.environ, "LIVE_PUBLISHER_KEY_MAIN": KEY}
        command = [
            sys.executable,
            "-m",
            "live",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            data,
            "--log-level",
            "warning",
            # Every viewer comes from loopback: declared a venue network, as a venue's Wi-Fi would be
            # (per-address limits on WHEP, docs/CONFIGURATION.md); the shipped event file has none.
            "--config",
            str(event_file_with_loopback_venue(Path(data))),
            "--webrtc-seats",
            "10000",  # the benchmark measures WebRTC viewers, however many it asks for
        ]
        live = subprocess.Popen(command, cwd=REPO, env=env)
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz")
            base = f"http://127.0.0.1:{port}/api/rooms/main"
            results.append(
                measure(
                    "forwarding (live serve)",
                    live.pid,
                    f"{base}/whip",
                    f"{base}/whep",
                    arguments.viewers,
                    arguments.processes,
                    arguments.seconds,
                )
            )
        finally:
            live.terminate()
            live.wait()
        if arguments.naive_viewers:
            port = free_port()
            naive = subprocess.Popen([sys.executable, __file__, "naive-server", str(port)], cwd=REPO)
            try:
                wait_http(f"http://127.0.0.1:{port}/healthz")
                base = f"http://127.0.0.1:{port}"
                results.append(
                    measure(
                        "naive (MediaRelay, encode per viewer)",
                        naive.pid,
                        f"{base}/whip",
                        f"{base}/whep",
                        arguments.naive_viewers,
                        1,
                        arguments.seconds,
                    )
                )
            finally:
                naive.terminate()
                naive.wait()
    print(json.dumps(results, indent=2))
    print(f"\n{'server':<40} {'viewers':>7} {'CPU/viewer':>10} {'viewers/core':>12} {'fps':>6} {'first frame':>11}")
    for r in results:
        first = f"{r['first_frame_median_s']} s" if r["first_frame_median_s"] is not None else "-"
        print(f"{r['server']:<40} {r['viewers']:>7} {r['cpu_per_viewer'] * 100:>9.2f}% "
              f"{r['viewers_per_core'] or '-':>12} {r['fps_mean']:>6} {first:>11}")  # fmt: skip
    if len(results) == 2 and results[0]["cpu_per_viewer"] > 0:
        print(
            f"\nCPU per viewer, naive / forwarding: {results[1]['cpu_per_viewer'] / results[0]['cpu_per_viewer']:.1f}x"
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "viewers":
        print(json.dumps(asyncio.run(watch(sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "naive-server":
        naive_server(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=100, help="viewers of the forwarding server")
    parser.add_argument("--naive-viewers", type=int, default=6, help="viewers of the naive server (0: skip it)")
    parser.add_argument("--processes", type=int, default=2, help="viewer processes for the forwarding server")
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds per server")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
