"""CPU per delivery of the live stream against a bare ``websockets.broadcast()`` server, measured
the way a user would see it, baseline and ours interleaved in one run.

    .venv/bin/python bench/fanout_bench.py --viewers 5000 --rate 4 --seconds 8 --rounds 3

Every target is started at once, each server process pinned to one core (``--server-cpu``), the
load generators, Redis and this script on another (``--load-cpu``), and all the viewers join
before anything is measured. Then the targets take turns (A B C A B C ...): a window of
``--seconds`` with ``--rate`` events per second into one target while the others idle; its
server's CPU (user + system, from /proc, for its PID only) is read at the window's first event
and ``--drain`` seconds after its last. The delays and bytes come from the clients
(``loadgen.py``'s lean client, the same for every target): each window's events carry their own
sequence range, so each window's deliveries, losses and p99 are its own.

The events are the same size on both sides: ours are ``ask_question`` commands sent by a
moderator over its own stream into a post-moderation room, as in the room; the baseline's are
the same message, the shape and size of ours, sent to its publish socket. The printed table has
the bytes each client received per event, to show it. The ratio is taken within a round (the
windows next to each other in time); the summary gives its median and spread over the rounds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets.sync.client as ws_sync

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stream_bench as bench
from loadgen import WINDOW

TARGETS = {
    "broadcast": "bare websockets.broadcast() on uvloop (the loop live serve runs on)",
    "broadcast-asyncio": "the same on asyncio.run (what our earlier figures compared against)",
    "ours-embedded": "live serve, embedded engine",
    "ours-redis": "live serve on Redis (one process)",
    "before-embedded": "live serve from the checkout given by --before (e.g. main), embedded engine",
}


@dataclass
class Target:
    name: str
    server: bench.Server
    publish: Any  # callable(sequence) -> None
    load: bench.Generators | None = None
    join: dict[str, Any] = field(default_factory=dict)
    windows: list[tuple[int, float, float]] = field(default_factory=list)  # (window, user, system CPU seconds)
    closers: list[Any] = field(default_factory=list)


def pinned(cpu: str) -> list[str]:
    return ["taskset", "-c", cpu] if cpu else []


def question_message(sequence: int) -> str:
    """The baseline's event: what ours sends a viewer for a question asked (the fields of
    ``Question.public_view`` and ``protocol.question``/``at``), so both sides send the same bytes."""
    view = {"id": secrets.token_hex(8), "text": bench.event_text(sequence), "author_name": None, "status": "live",
            "votes": 0, "reply": None, "asked_at": round(time.time(), 3), "answered_at": None, "also_asked": 0,
            "also_asked_by": []}  # fmt: skip
    message = {"type": "question", "question": view, "action": "asked", "epoch": secrets.token_hex(8)}
    return json.dumps({**message, "offset": sequence % WINDOW + 3}, ensure_ascii=False, separators=(",", ":"))


def start_broadcast(work: Path, loop: str, cpu: str) -> Target:
    port = bench.free_port()
    log = (work / f"broadcast-{loop}.log").open("wb")
    command = [*pinned(cpu), bench.PYTHON, str(bench.ROOT / "bench" / "baseline_broadcast.py"), "--port", str(port),
               "--loop", loop]  # fmt: skip
    process = subprocess.Popen(command, stdout=log, stderr=log)
    bench.wait_port(port)
    name = "broadcast" if loop == "uvloop" else "broadcast-asyncio"
    server = bench.Server(name, [process], [f"ws://127.0.0.1:{port}/"])
    control = ws_sync.connect(f"ws://127.0.0.1:{port}/publish", compression=None).__enter__()
    return Target(name, server, lambda sequence: control.send(question_message(sequence)), closers=[control.close])


def start_ours(name: str, work: Path, redis_url: str | None, cpu: str, root: Path | None = None) -> Target:
    bench.SERVER_PREFIX[:] = pinned(cpu)
    if root is None:
        server = bench.start_ours(name, work, redis_url, 1)
    else:
        venv = root / ".venv" / "bin" / "python"  # else this one's: ``-m live`` imports from the cwd first
        server = bench.start_ours(name, work, redis_url, 1, root, str(venv) if venv.exists() else bench.PYTHON)
    moderator: httpx.Client = server.moderator  # type: ignore[attr-defined]
    cookie = "; ".join(f"{k}={v}" for k, v in moderator.cookies.items())
    stream = ws_sync.connect(
        server.viewer_urls[0] + "?as=moderator", additional_headers={"Cookie": cookie}, compression=None, max_size=None
    ).__enter__()  # open for the whole run

    def drain() -> None:  # the moderator's own stream: acks and the moderator view of each event
        with contextlib.suppress(Exception):
            for _message in stream:
                pass

    threading.Thread(target=drain, daemon=True).start()

    def publish(sequence: int) -> None:
        command = {"type": "ask_question", "text": bench.event_text(sequence)}
        stream.send(json.dumps({"type": "command", "ref": sequence, "command": command}))

    return Target(name, server, publish, closers=[stream.close])


def user_system(pids: list[int]) -> tuple[float, float]:
    """User and system CPU seconds of these processes (/proc/PID/stat utime, stime)."""
    user = system = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        user, system = user + int(fields[11]) / bench.CLOCK_TICKS, system + int(fields[12]) / bench.CLOCK_TICKS
    return user, system


def publish_window(target: Target, window: int, rate: float, seconds: float, drain: float) -> tuple[float, float]:
    """One measurement window: events at ``rate`` for ``seconds``; the server CPU it took (user, system)."""
    count = int(rate * seconds)
    started = time.monotonic()
    user, system = user_system(target.server.pids)
    for n in range(count):
        delay = started + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        target.publish(window * WINDOW + n)
    time.sleep(drain)
    user_after, system_after = user_system(target.server.pids)
    return user_after - user, system_after - system


def summarise(target: Target, results: dict[str, Any], viewers: int, events: int) -> list[dict[str, Any]]:
    rows = []
    for window, user, system in target.windows:
        cpu = user + system
        measured = results.get(str(window), {"received": 0, "bytes": 0, "delays_ms": []})
        received = measured["received"]
        rows.append(
            {
                "window": window,
                "deliveries": received,
                "lost": events * viewers - received,
                "bytes_per_event": round(measured["bytes"] / max(1, received)),
                "p50_ms": round(bench.percentile(measured["delays_ms"], 0.5), 1),
                "p99_ms": round(bench.percentile(measured["delays_ms"], 0.99), 1),
                "cpu_us_per_delivery": round(cpu / max(1, received) * 1e6, 2),
                "user_us_per_delivery": round(user / max(1, received) * 1e6, 2),
                "system_us_per_delivery": round(system / max(1, received) * 1e6, 2),
            }
        )
    return rows


def merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for result in results:
        for window, measured in result["windows"].items():
            into = merged.setdefault(window, {"received": 0, "bytes": 0, "delays_ms": []})
            for key in into:
                into[key] += measured[key]
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=4.0, help="events per second in a window")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of a window")
    parser.add_argument("--drain", type=float, default=1.0, help="seconds after a window's last event")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--join-seconds", type=float, default=10.0)
    parser.add_argument("--generators", type=int, default=2, help="load generator processes per target")
    parser.add_argument("--targets", default="broadcast,ours-embedded")
    parser.add_argument("--server-cpu", default="0", help="core for the servers ('' = not pinned)")
    parser.add_argument("--load-cpu", default="1", help="core for load generators, Redis and this script")
    parser.add_argument("--before", type=Path, help="a checkout with its .venv, for the before-embedded target")
    parser.add_argument("--max-p99-ms", type=float, default=1000.0, help="windows with a p99 over it are left out")
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args()
    if arguments.load_cpu:
        os.sched_setaffinity(0, {int(arguments.load_cpu)})
    bench.LOAD_PREFIX[:] = pinned(arguments.load_cpu)
    work = Path(tempfile.mkdtemp(prefix="live-fanout-"))
    redis_process = None
    targets: list[Target] = []
    try:
        for name in arguments.targets.split(","):
            if name in ("broadcast", "broadcast-asyncio"):
                loop = "uvloop" if name == "broadcast" else "asyncio"
                targets.append(start_broadcast(work, loop, arguments.server_cpu))
            elif name == "ours-embedded":
                targets.append(start_ours(name, work, None, arguments.server_cpu))
            elif name == "before-embedded":
                if arguments.before is None:
                    raise SystemExit("before-embedded needs --before DIR")
                targets.append(start_ours(name, work, None, arguments.server_cpu, arguments.before))
            elif name == "ours-redis":
                redis_process, redis_url = bench.start_redis(work)
                targets.append(start_ours(name, work, redis_url, arguments.server_cpu))
            else:
                raise SystemExit(f"unknown target {name}; one of {', '.join(TARGETS)}")
        for target in targets:
            target.load, target.join = bench.join(
                target.server, arguments.viewers, arguments.generators, arguments.join_seconds
            )
            print(f"{target.name}: joined {target.join}", file=sys.stderr, flush=True)
        load_average = os.getloadavg()
        measured = [time.time()]  # wall clock, for bench/fanout_gc.py --since/--until
        print(f"windows from {measured[0]:.0f}", file=sys.stderr, flush=True)
        window = 1
        for _round in range(arguments.rounds):
            for target in targets:
                user, system = publish_window(target, window, arguments.rate, arguments.seconds, arguments.drain)
                target.windows.append((window, user, system))
                window += 1
        load_average_after = os.getloadavg()
        measured.append(time.time())
        print(f"windows until {measured[1]:.0f}", file=sys.stderr, flush=True)
        events = int(arguments.rate * arguments.seconds)
        table: dict[str, list[dict[str, Any]]] = {}
        for target in targets:
            assert target.load is not None
            results = []
            target.load.tell("stop")
            for process in target.load.processes:
                assert process.stdout is not None
                results.append(json.loads(process.stdout.readline()))
                process.wait(30)
            table[target.name] = summarise(target, merge(results), target.join["ready"], events)
        report(arguments, targets, table, load_average, load_average_after)
        if arguments.json:
            arguments.json.write_text(json.dumps({"joins": {t.name: t.join for t in targets}, "windows": table}))
    finally:
        for target in targets:
            for close in target.closers:
                with contextlib.suppress(Exception):
                    close()
            target.server.stop()
        if redis_process is not None:
            redis_process.terminate()
        shutil.rmtree(work, ignore_errors=True)


def report(
    arguments: argparse.Namespace,
    targets: list[Target],
    table: dict[str, list[dict[str, Any]]],
    before: tuple[float, float, float],
    after: tuple[float, float, float],
) -> None:
    print(
        f"\n# fan-out: {arguments.viewers} viewers, {arguments.rate} events/s, windows of {arguments.seconds} s, "
        f"{arguments.rounds} rounds; servers on core {arguments.server_cpu or 'any'}, load on core "
        f"{arguments.load_cpu or 'any'}; load average {before[0]:.1f} before, {after[0]:.1f} after\n"
    )
    print("| target | memory per connection | " + " | ".join(f"round {r + 1}" for r in range(arguments.rounds)) + " |")
    print("|---|---|" + "---|" * arguments.rounds)
    base_name = targets[0].name
    for target in targets:
        cells = []
        for n, row in enumerate(table[target.name]):
            base = table[base_name][n]["cpu_us_per_delivery"]
            ratio = row["cpu_us_per_delivery"] / base if base else float("nan")
            cells.append(
                f"{row['cpu_us_per_delivery']} µs ({ratio:.2f}x; user {row['user_us_per_delivery']}, "
                f"system {row['system_us_per_delivery']}), p99 {row['p99_ms']} ms, "
                f"lost {row['lost']}, {row['bytes_per_event']} B"
            )
        memory = target.join.get("server_rss_per_connection_kb")
        print(f"| {target.name} | {memory} KB | " + " | ".join(cells) + " |")
    print(f"\nratio of CPU per delivery to {base_name}, within each round: median (min-max), over the rounds")
    print(
        f"in which both kept up: nothing lost, p99 under {arguments.max_p99_ms:.0f} ms (clients that fall behind "
        "leave messages queued in socket buffers, and the server then pays less per write than a user would see)"
    )

    def kept_up(row: dict[str, Any]) -> bool:
        return row["lost"] == 0 and row["p99_ms"] < arguments.max_p99_ms and row["cpu_us_per_delivery"] > 0

    for target in targets[1:]:
        rounds = [
            (row, table[base_name][n])
            for n, row in enumerate(table[target.name])
            if kept_up(row) and kept_up(table[base_name][n])
        ]
        if not rounds:
            print(f"  {target.name}: no round in which both kept up: not comparable (load average {after[0]:.1f})")
            continue
        ratios = [row["cpu_us_per_delivery"] / base["cpu_us_per_delivery"] for row, base in rounds]
        p99 = statistics.median(row["p99_ms"] for row, _ in rounds)
        base_p99 = statistics.median(base["p99_ms"] for _, base in rounds)
        no_worse = sum(1 for row, base in rounds if row["p99_ms"] <= base["p99_ms"])
        print(
            f"  {target.name}: {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) in "
            f"{len(rounds)} of {len(table[target.name])} rounds; p99 median {p99:.1f} ms against {base_p99:.1f} ms, "
            f"at or under {base_name}'s in {no_worse} of {len(rounds)} rounds"
        )


if __name__ == "__main__":
    main()
