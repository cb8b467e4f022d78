"""The live-stream capacity benchmark: our server against two baselines, in one run.

    .venv/bin/python bench/stream_bench.py --viewers 5000 --rate 4 --seconds 20

Targets (each a separate server, started and stopped here, loopback only):
  ours-embedded   live serve on the embedded engine
  ours-redis      two live serve processes on one Redis, the viewers split between them
  broadcast       a bare websockets.broadcast() server (baseline 1: the practical Python limit)
  starlette       the naive Starlette loop fed by Redis pub/sub (baseline 2)
Scenarios: joins (time until every viewer has its snapshot), questions (a steady event rate:
delivery delay p50/p99/max, losses, CPU per delivery), votes (ours: a vote storm from every viewer:
votes accepted per second, counter updates per second, exact final tally), slow (a few clients
that never read while events flow fast: they must be dropped/resynced, the others unaffected).
The load generator shares this 2-core machine with the server: its CPU is reported too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis as redis_sync

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MODERATOR_KEY = "bench-moderator-key"
CLIENT = ["raw"]  # the load generator's WebSocket client (loadgen.py --client)
SERVER_PREFIX: list[str] = []  # e.g. ["taskset", "-c", "0"]: where server processes run (--pin)
LOAD_PREFIX: list[str] = []  # where load generators and Redis run
METRICS_KEY = "bench-metrics-key"
ROOM = "main"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Server:
    name: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    viewer_urls: list[str] = field(default_factory=list)
    publish: Any = None  # callable(sequence) -> None
    http: list[str] = field(default_factory=list)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids)

    def rss(self) -> int:
        return sum(rss_bytes(pid) for pid in self.pids)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)
            if process.poll() is None:
                process.kill()


def wait_http(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def wait_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"port {port} did not open")


PADDING = [""]  # set by --pad: longer events fill a slow client's buffers sooner


def event_text(sequence: int) -> str:
    text = f"Benchmark question bench:{sequence}:{time.time_ns()} — how fast can hydrogen trucks scale? 氢能重卡"
    return (text + PADDING[0])[:500]


# Every viewer of the benchmark comes from loopback: like a venue's Wi-Fi, it is declared a venue
# network in the benchmark's own copy of the event file (docs/CONFIGURATION.md), scaled so that
# 20,000 identities and 40,000 streams fit; the shipped event file declares none.
LOOPBACK_VENUE = """
[[venue_networks]]
name = "loopback (benchmark)"
networks = ["127.0.0.0/8", "::1/128"]
phones = 20000
"""


def event_file_with_loopback_venue(work: Path) -> Path:
    path = work / "event-with-loopback-venue.toml"
    path.write_text((ROOT / "config" / "summit-2023.toml").read_text(encoding="utf-8") + LOOPBACK_VENUE, "utf-8")
    return path


def start_ours(
    name: str, work: Path, redis_url: str | None, processes: int, root: Path = ROOT, python: str = PYTHON
) -> Server:
    """``processes`` of ``live serve`` (from the tree at ``root``: another checkout to compare with)."""
    server = Server(name)
    config = event_file_with_loopback_venue(work)
    environment = {
        **os.environ,
        "LIVE_MODERATOR_KEY": MODERATOR_KEY,
        "LIVE_METRICS_KEY": METRICS_KEY,
        "LIVE_SECRET": "bench-secret-0123456789",
    }
    for n in range(processes):
        port = free_port()
        command = [*SERVER_PREFIX, python, "-m", "live", "serve", "--port", str(port),
                   "--data-dir", str(work / f"data-{name}-{n}"), "--config", str(config),
                   "--log-level", "warning", "--outbox-limit", "500"]  # fmt: skip
        if redis_url:
            command += ["--redis", redis_url]
        log = (work / f"{name}-{n}.log").open("wb")
        server.processes.append(subprocess.Popen(command, cwd=root, env=environment, stdout=log, stderr=log))
        wait_http(f"http://127.0.0.1:{port}/healthz")
        server.viewer_urls.append(f"ws://127.0.0.1:{port}/ws/rooms/{ROOM}")
        server.http.append(f"http://127.0.0.1:{port}")
    moderator = httpx.Client(base_url=server.http[0], timeout=30)
    moderator.get("/")
    moderator.post("/api/login", json={"key": MODERATOR_KEY}).raise_for_status()
    moderator.post(f"/api/rooms/{ROOM}/commands", json={"type": "set_moderation", "mode": "post"}).raise_for_status()

    def publish(sequence: int) -> None:
        response = moderator.post(
            f"/api/rooms/{ROOM}/commands", json={"type": "ask_question", "text": event_text(sequence)}
        )
        response.raise_for_status()

    server.publish = publish
    server.moderator = moderator  # type: ignore[attr-defined]
    return server


def start_broadcast(work: Path) -> Server:
    import websockets.sync.client as ws_sync

    port = free_port()
    log = (work / "broadcast.log").open("wb")
    process = subprocess.Popen(
        [PYTHON, str(ROOT / "bench" / "baseline_broadcast.py"), "--port", str(port)], stdout=log, stderr=log
    )
    wait_port(port)
    server = Server("broadcast", [process], [f"ws://127.0.0.1:{port}/"])
    control = ws_sync.connect(f"ws://127.0.0.1:{port}/publish").__enter__()  # open for the whole run

    def publish(sequence: int) -> None:
        control.send(
            json.dumps(
                {
                    "type": "question",
                    "question": {"id": f"q{sequence}", "text": event_text(sequence), "votes": 0, "status": "live"},
                }
            )
        )

    server.publish = publish
    return server


def start_starlette(work: Path, redis_url: str) -> Server:
    port = free_port()
    log = (work / "starlette.log").open("wb")
    command = [PYTHON, str(ROOT / "bench" / "baseline_starlette.py"), "--port", str(port), "--redis", redis_url]
    process = subprocess.Popen(command, stdout=log, stderr=log)
    wait_port(port)
    server = Server("starlette", [process], [f"ws://127.0.0.1:{port}/ws"])
    client = redis_sync.Redis.from_url(redis_url)

    def publish(sequence: int) -> None:
        client.publish(
            "bench",
            json.dumps(
                {
                    "type": "question",
                    "question": {"id": f"q{sequence}", "text": event_text(sequence), "votes": 0, "status": "live"},
                }
            ),
        )

    server.publish = publish
    return server


@dataclass
class Generators:
    processes: list[subprocess.Popen[str]]

    @classmethod
    def start(
        cls,
        urls: list[str],
        viewers: int,
        count: int,
        join_seconds: float,
        slow: int = 0,
        identity: bool = True,
    ) -> Generators:
        processes = []
        share = viewers // count
        for n in range(count):
            url = urls[n % len(urls)]
            connections = share if n < count - 1 else viewers - share * (count - 1)
            slow_here = slow // count if n < count - 1 else slow - (slow // count) * (count - 1)
            command = [*LOAD_PREFIX, PYTHON, str(ROOT / "bench" / "loadgen.py"), "--url", url,
                       "--connections", str(connections), "--first-index", str(n * share),
                       "--join-seconds", str(join_seconds),
                       "--slow", str(slow_here), "--client", CLIENT[0],
                       *([] if identity else ["--no-identity"])]  # fmt: skip
            processes.append(
                subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
            )
        return cls(processes)

    def tell(self, line: str) -> None:
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.write(line + "\n")
            process.stdin.flush()

    def status(self) -> tuple[int, int]:
        self.tell("status")
        ready = failed = 0
        for process in self.processes:
            assert process.stdout is not None
            reply = json.loads(process.stdout.readline())
            ready += reply["ready"]
            failed += reply["failed"]
        return ready, failed

    def cpu(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.processes if p.poll() is None)

    def finish(self) -> dict[str, Any]:
        self.tell("stop")
        merged: dict[str, Any] = {
            "snapshots": [],
            "delays_ms": [],
            "received": [],
            "counters": [],
            "resyncs": 0,
            "failed": [],
            "replies": {},
        }
        for process in self.processes:
            assert process.stdout is not None
            result = json.loads(process.stdout.readline())
            for key in ("snapshots", "delays_ms", "received", "counters", "failed"):
                merged[key] += result[key]
            for kind, count in result.get("replies", {}).items():
                merged["replies"][kind] = merged["replies"].get(kind, 0) + count
            merged["resyncs"] += result["resyncs"]
            process.wait(30)
        return merged


def join(
    server: Server, viewers: int, generators: int, join_seconds: float, slow: int = 0
) -> tuple[Generators, dict[str, Any]]:
    rss_before, cpu_before = server.rss(), server.cpu()
    started = time.monotonic()
    identity = server.name.startswith(("ours", "before"))  # live serve needs a room page's cookie; baselines not
    load = Generators.start(server.viewer_urls, viewers, generators, join_seconds, slow, identity)
    deadline = started + join_seconds + 60
    ready = failed = 0
    while time.monotonic() < deadline:
        time.sleep(0.5)
        ready, failed = load.status()
        if ready + failed >= viewers:
            break
    all_in = time.monotonic() - started
    time.sleep(1)
    return load, {
        "viewers": viewers,
        "ready": ready,
        "failed": failed,
        "seconds_until_all_snapshots": round(all_in, 2),
        "server_rss_per_connection_kb": round((server.rss() - rss_before) / max(1, ready) / 1024, 1),
        "server_cpu_seconds_joining": round(server.cpu() - cpu_before, 2),
    }


def publish_steadily(server: Server, rate: float, seconds: float, lags: list[float] | None = None) -> int:
    """Publish at ``rate``; if ``lags`` is given, also read our servers' event-loop lag about once
    a second, in the slack between two events (the gauge holds only the last measurement)."""
    started = sampled = time.monotonic()
    count = int(rate * seconds)
    for sequence in range(count):
        if lags is not None and time.monotonic() - sampled >= 1:
            sampled = time.monotonic()
            lags.append(max(event_loop_lag_ms(url) for url in server.http))
        delay = started + sequence / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        server.publish(sequence)
    return count


def questions(server: Server, load: Generators, rate: float, seconds: float, finish: bool = True) -> dict[str, Any]:
    cpu_before, load_cpu_before = server.cpu(), load.cpu()
    lags: list[float] | None = [] if server.name.startswith(("ours", "before")) else None
    count = publish_steadily(server, rate, seconds, lags)
    time.sleep(3)
    cpu = server.cpu() - cpu_before
    load_cpu = load.cpu() - load_cpu_before
    phase = (
        summarise(load.finish(), count, rate, cpu, load_cpu)
        if finish
        else {"events": count, "cpu": cpu, "load_cpu": load_cpu}
    )
    if lags:
        phase["event_loop_lag_ms_max"] = max(lags)
    return phase


def summarise(result: dict[str, Any], count: int, rate: float, cpu: float, load_cpu: float) -> dict[str, Any]:
    received = result["received"]
    deliveries = sum(received)
    delays = result["delays_ms"]
    return {
        "events": count,
        "rate_per_second": rate,
        "deliveries": deliveries,
        "lost": count * len(received) - deliveries,
        "p50_ms": round(percentile(delays, 0.50), 1),
        "p99_ms": round(percentile(delays, 0.99), 1),
        "max_ms": round(max(delays) if delays else float("nan"), 1),
        "server_cpu_seconds": round(cpu, 2),
        "server_cpu_us_per_delivery": round(cpu / max(1, deliveries) * 1e6, 1),
        "loadgen_cpu_seconds": round(load_cpu, 2),
        "resyncs": result["resyncs"],
        "failed": len(result["failed"]),
    }


def _metric(url: str, name: str) -> float:
    scraped = httpx.get(f"{url}/metrics", headers={"authorization": f"Bearer {METRICS_KEY}"}, timeout=10)
    for line in scraped.text.splitlines():
        if line.startswith(name):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def slow_clients_dropped(url: str) -> int:
    return int(_metric(url, 'live_resyncs_total{reason="slow_client"}'))


def event_loop_lag_ms(url: str) -> float:
    return round(_metric(url, "live_event_loop_lag_seconds") * 1000, 1)


def vote_storm(server: Server, load: Generators, viewers: int, spread: float, rounds: int = 1) -> dict[str, Any]:
    """Every viewer votes once per round, each round's votes spread over ``spread`` seconds:
    ``viewers / spread`` votes offered per second for ``rounds * spread`` seconds. Round 1 is a
    poll's ballots; a room has one open poll at a time, so the later rounds are upvotes, one
    question each (asked by the moderator before the storm). Every count must come out exact."""
    moderator: httpx.Client = server.moderator  # type: ignore[attr-defined]
    options = ["Hydrogen 氢能", "Battery 电池", "Hybrid 混动", "Other 其他"]
    poll = moderator.post(f"/api/rooms/{ROOM}/commands", json={"type": "create_poll", "kind": "single_choice",
                          "question": "Which matters most?", "options": options}).json()["poll_id"]  # fmt: skip
    moderator.post(f"/api/rooms/{ROOM}/commands", json={"type": "change_poll", "poll_id": poll, "action": "open"})
    questions = [
        moderator.post(f"/api/rooms/{ROOM}/commands", json={
            "type": "ask_question", "text": f"Storm round {number}: which corridor first?"}).json()["question"]["id"]
        for number in range(2, rounds + 1)
    ]  # fmt: skip
    time.sleep(1)
    cpu_before = server.cpu()
    started = time.monotonic()
    load.tell("vote " + json.dumps({"type": "vote_poll", "poll_id": poll, "_options": options, "_spread": spread}))
    for number, question in enumerate(questions, start=1):
        load.tell("vote " + json.dumps({"type": "upvote", "question_id": question, "_spread": spread,
                                        "_after": number * spread}))  # fmt: skip

    def counted() -> tuple[int, dict[str, Any], list[int]]:
        live = moderator.get(f"/api/rooms/{ROOM}?as=moderator").json()["live"]
        shown = next(p for p in live["polls"] if p["id"] == poll)
        upvotes = [next(q for q in live["questions"] if q["id"] == question)["votes"] for question in questions]
        return shown["ballots"] + sum(upvotes), shown["tally"], upvotes

    expected_votes = viewers * rounds
    votes, last_change, previous = 0, started, -1
    samples: list[tuple[float, int]] = []  # (seconds since the storm began, votes counted)
    while time.monotonic() - started < spread * rounds + 30:
        time.sleep(0.1)
        votes, _, _ = counted()
        samples.append((time.monotonic() - started, votes))
        if votes != previous:
            previous, last_change = votes, time.monotonic()
        stalled = time.monotonic() - last_change > 5 and time.monotonic() - started > spread * rounds
        if votes >= expected_votes or stalled:
            break
    took = last_change - started
    moderator.post(f"/api/rooms/{ROOM}/commands", json={"type": "change_poll", "poll_id": poll, "action": "close"})
    votes, tally, upvotes = counted()
    expected = {option: sum(1 for i in range(viewers) if i % len(options) == n) for n, option in enumerate(options)}
    return {
        "voters": viewers,
        "rounds": rounds,
        "votes_counted": votes,
        "tally_exact": tally == expected and all(count == viewers for count in upvotes),
        "votes_offered_per_second": round(viewers / spread, 1),
        "votes_accepted_per_second": round(votes / max(0.001, took), 1),
        "votes_accepted_best_second": _best_second(samples),
        "votes_accepted_worst_second": _worst_second(samples, spread * rounds),
        "most_seconds_behind": _most_behind(samples, viewers, spread, rounds),
        "seconds_to_count_all": round(took, 1),
        "server_cpu_seconds": round(server.cpu() - cpu_before, 2),
        "_started": started,
    }


def _best_second(samples: list[tuple[float, int]]) -> int:
    """The most votes counted within any one second of the storm (a burst, not a sustained rate)."""
    best = 0
    for start, counted in samples:
        later = [c for t, c in samples if start + 0.95 <= t <= start + 1.05]
        if later:
            best = max(best, later[0] - counted)
    return best


def _worst_second(samples: list[tuple[float, int]], offered_for: float) -> int:
    """The fewest votes counted within any one second while votes were still being offered
    (the first and last second left out: the storm ramps up and drains): a sustained rate is
    one whose worst second is near it, not only its average."""
    worst: int | None = None
    for start, counted in samples:
        if start < 1.0 or start + 1.05 > offered_for:
            continue
        later = [c for t, c in samples if start + 0.95 <= t <= start + 1.05]
        if later:
            worst = later[0] - counted if worst is None else min(worst, later[0] - counted)
    return worst if worst is not None else 0  # 0: the storm was too short to have such a second


def _most_behind(samples: list[tuple[float, int]], viewers: int, spread: float, rounds: int) -> float:
    """The longest the counted votes lagged behind the offered ones, in seconds of offered
    votes: a rate is sustained when this stays small and does not grow over the storm. Offered
    by ``t``: each round's share of its ``spread`` seconds gone by (the generators space their
    votes evenly). ``t`` is when the count came back, so the lag is at most overstated by a read."""
    rate = viewers / spread
    worst = 0.0
    for at, counted in samples:
        offered = sum(viewers * min(1.0, max(0.0, (at - n * spread) / spread)) for n in range(rounds))
        worst = max(worst, (offered - counted) / rate)
    return round(worst, 2)


def report(title: str, rows: dict[str, dict[str, Any]], keys: list[str]) -> None:
    print(f"\n## {title}\n")
    names = list(rows)
    print("| measure | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for key in keys:
        print(f"| {key} | " + " | ".join(str(rows[name].get(key, "")) for name in names) + " |")


def start_redis(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    binary = shutil.which("redis-server") or "redis-server"
    process = subprocess.Popen([*LOAD_PREFIX, binary, "--port", str(port), "--save", "", "--appendonly", "no",
                                "--dir", str(work)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    wait_port(port)
    return process, f"redis://127.0.0.1:{port}/0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=4.0, help="question events per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--join-seconds", type=float, default=10.0)
    parser.add_argument("--generators", type=int, default=4, help="load generator processes")
    parser.add_argument("--targets", default="broadcast,starlette,ours-embedded,ours-redis")
    parser.add_argument("--client", choices=["raw", "websockets"], default="raw", help="the load generator's client")
    parser.add_argument("--redis-processes", type=int, default=2, help="server processes sharing Redis")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--votes", action="store_true", help="add the vote storm (our targets only)")
    parser.add_argument("--vote-spread", type=float, default=10.0, help="seconds over which a poll's votes come")
    parser.add_argument(
        "--vote-rounds", type=int, default=1, help="rounds of votes, one after another: a poll, then upvotes"
    )
    parser.add_argument("--slow", type=int, default=0, help="clients that never read, in the slow scenario")
    parser.add_argument("--pad", type=int, default=0, help="characters added to each event (up to 500 in all)")
    parser.add_argument("--server-cpu", default="", help="pin server processes to this core (taskset -c)")
    parser.add_argument("--before", type=Path, help="a checkout with its .venv: targets before-embedded, before-redis")
    parser.add_argument("--load-cpu", default="", help="pin load generators, Redis and this script to this core")
    arguments = parser.parse_args()
    if arguments.vote_rounds < 1:
        parser.error("--vote-rounds must be at least 1")
    if arguments.server_cpu:
        SERVER_PREFIX[:] = ["taskset", "-c", arguments.server_cpu]
    if arguments.load_cpu:
        LOAD_PREFIX[:] = ["taskset", "-c", arguments.load_cpu]
        os.sched_setaffinity(0, {int(arguments.load_cpu)})
    PADDING[0] = " 氢能储能" * (arguments.pad // 5)
    CLIENT[0] = arguments.client

    work = Path(tempfile.mkdtemp(prefix="live-bench-"))
    redis_process, redis_url = start_redis(work)
    rows_join: dict[str, dict[str, Any]] = {}
    rows_questions: dict[str, dict[str, Any]] = {}
    rows_votes: dict[str, dict[str, Any]] = {}
    try:
        names = arguments.targets.split(",")
        for turn, name in enumerate(names, 1):  # a name given twice is run twice: A B A B, interleaved
            target = name if names.count(name) == 1 else f"{name} ({turn})"
            if name.startswith("before-") and arguments.before is None:
                raise SystemExit(f"{name} needs --before DIR")
            before = arguments.before / ".venv" / "bin" / "python" if arguments.before else None
            if name == "broadcast":
                server = start_broadcast(work)
            elif name == "starlette":
                server = start_starlette(work, redis_url)
            elif name == "ours-embedded":
                server = start_ours(target, work, None, 1)
            elif name == "before-embedded":
                server = start_ours(target, work, None, 1, arguments.before, str(before))
            elif name in ("ours-redis", "before-redis"):
                redis_client = redis_sync.Redis.from_url(redis_url)
                redis_client.flushall()
                if name == "ours-redis":
                    server = start_ours(target, work, redis_url, arguments.redis_processes)
                else:
                    server = start_ours(
                        target, work, redis_url, arguments.redis_processes, arguments.before, str(before)
                    )
            else:
                raise SystemExit(f"unknown target {name}")
            try:
                load, rows_join[target] = join(
                    server, arguments.viewers, arguments.generators, arguments.join_seconds, arguments.slow
                )
                print(f"{target}: joined {rows_join[target]}", file=sys.stderr, flush=True)
                voting = arguments.votes and name.startswith(("ours", "before"))
                phase = questions(server, load, arguments.rate, arguments.seconds, finish=not voting)
                if voting:
                    print(f"{target}: storm from {time.time():.1f}", file=sys.stderr, flush=True)  # fanout_gc.py
                    rows_votes[target] = vote_storm(
                        server, load, arguments.viewers - arguments.slow, arguments.vote_spread, arguments.vote_rounds
                    )
                    print(f"{target}: storm until {time.time():.1f}", file=sys.stderr, flush=True)
                    started = rows_votes[target].pop("_started")
                    result = load.finish()
                    seconds = time.monotonic() - started
                    counts = result["counters"]
                    rows_votes[target]["counter_updates_per_second_per_viewer"] = round(
                        sum(counts) / max(1, len(counts)) / seconds, 2
                    )
                    replies = dict(result["replies"])  # the question phase's commands are the moderator's
                    rows_votes[target]["votes_acknowledged"] = replies.pop("ack", 0)
                    rows_votes[target]["votes_refused"] = json.dumps(replies) if replies else 0
                    lags = phase.get("event_loop_lag_ms_max")
                    phase = summarise(result, phase["events"], arguments.rate, phase["cpu"], phase["load_cpu"])
                    if lags is not None:
                        phase["event_loop_lag_ms_max"] = lags
                if name.startswith(("ours", "before")):
                    phase["slow_clients_dropped"] = sum(slow_clients_dropped(url) for url in server.http)
                    phase["event_loop_lag_ms_at_end"] = max(event_loop_lag_ms(url) for url in server.http)
                rows_questions[target] = phase
                print(f"{target}: questions {rows_questions[target]}", file=sys.stderr, flush=True)
            finally:
                server.stop()
        base = rows_questions.get("broadcast", {}).get("server_cpu_us_per_delivery")
        if base:
            for row in rows_questions.values():
                row["cpu_per_delivery_vs_broadcast"] = round(row["server_cpu_us_per_delivery"] / base, 2)
        print(
            f"\n# live stream benchmark: {arguments.viewers} viewers, {arguments.rate} events/s for "
            f"{arguments.seconds} s, {arguments.generators} load generator processes, {os.cpu_count()} cores\n"
        )
        report(
            "Joins",
            rows_join,
            ["viewers", "ready", "failed", "seconds_until_all_snapshots", "server_rss_per_connection_kb"],
        )
        question_keys = ["events", "deliveries", "lost", "p50_ms", "p99_ms", "max_ms", "server_cpu_us_per_delivery",
                         "cpu_per_delivery_vs_broadcast", "server_cpu_seconds", "loadgen_cpu_seconds",
                         "failed", "slow_clients_dropped", "event_loop_lag_ms_max",
                         "event_loop_lag_ms_at_end"]  # fmt: skip
        report("Question events", rows_questions, question_keys)
        if rows_votes:
            vote_keys = ["voters", "rounds", "votes_counted", "tally_exact", "votes_offered_per_second",
                         "votes_accepted_per_second", "votes_accepted_best_second", "votes_accepted_worst_second",
                         "most_seconds_behind", "seconds_to_count_all",
                         "counter_updates_per_second_per_viewer", "votes_acknowledged", "votes_refused",
                         "server_cpu_seconds"]  # fmt: skip
            report("Vote storm", rows_votes, vote_keys)
        if arguments.json:
            figures = {"joins": rows_join, "questions": rows_questions, "votes": rows_votes}
            arguments.json.write_text(json.dumps(figures, indent=2))
    finally:
        redis_process.terminate()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
