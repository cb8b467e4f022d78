"""What HLS costs and how far behind it is: glass-to-glass delay in Chromium, packaging CPU per
room, and the app's CPU per HLS viewer with and without the nginx cache, each against a baseline
measured in the same run (WebRTC; a room forwarded without packaging). Loopback only.

    .venv/bin/python bench/hls_bench.py delay --seconds 150 --hls-option liveSyncDurationCount=1
    .venv/bin/python bench/hls_bench.py packaging --rooms 2 --seconds 30
    .venv/bin/python bench/hls_bench.py viewers --players 3000 --processes 3 --direct-players 200

delay: ``stamped_source.py`` publishes frames that carry their capture time (FFmpeg's WHIP muxer,
keyframe every second); Chromium opens the real viewer page ``/r/main`` several times at once,
in WebRTC mode (the player's own choice), in HLS mode (the viewer's "standard" choice) with
hls.js through the shipped nginx configuration and straight from the app, with Chromium's own HLS
player (which lib/hls_source.js prefers when the browser has one), with hls.js through nginx reloading
the playlist as it did before blocking reloads (the page hides ``EXT-X-SERVER-CONTROL`` from hls.js:
a baseline in the same run), and optionally with other hls.js options
(``--hls-option liveSyncDurationCount=1``, same run). ``stamp_reader.js`` reads each
displayed picture's stamp five times a second. Printed: median, p95 and worst delay, and stalls:
the video's ``waiting`` events and pictures frozen for 0.5 s or more.

packaging: three ``live serve`` processes at once, each with ``--rooms`` FFmpeg publishers: as
shipped, without the AAC rendition, and without HLS packaging (bench-only patches applied in the
server process, ``serve`` below); the server's CPU over the same window (``/proc/PID/stat``).
It checks the patches took: the no-HLS server has no playlist, the no-AAC one no ``mp4a`` track.

viewers: one server and one publisher; the app's CPU with no viewer, then with ``--players``
simulated HLS players (``hls_players.py``) behind nginx, ``--direct-players`` straight at the
app, and ``--webrtc-viewers`` WebRTC viewers (``media_bench.py``'s), one phase after the other.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from media_bench import KEY, cpu_seconds, free_port, publisher, viewer_processes, wait_http  # beside this script

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
CONFIG = REPO / "config" / "summit-2023.toml"
NGINX = "/usr/sbin/nginx"
VARIANTS = ("shipped", "no-aac", "no-hls")
FROZEN = 0.5  # seconds without a new picture that count as a stall


def rooms(count: int) -> list[str]:
    slugs = [room["slug"] for room in tomllib.loads(CONFIG.read_text())["rooms"]]
    if count > len(slugs):
        raise SystemExit(f"{CONFIG.name} has {len(slugs)} rooms")
    return slugs[:count]


def key_variable(room: str) -> str:
    return "LIVE_PUBLISHER_KEY_" + room.upper().replace("-", "_")


# -- servers ------------------------------------------------------------------------------------
def serve(variant: str, argv: list[str]) -> int:
    """``live serve`` in this process, with HLS packaging as shipped, without its AAC rendition
    (the fragmenter is told there is no audio: no Opus decode, no AAC encode, no audio track) or
    without packaging at all (the packager ignores frames): bench-only, not product flags."""
    from live.media import hls

    if variant == "no-aac":
        fragmenter = hls.Fragmenter
        hls.Fragmenter = lambda video, audio: fragmenter(video, False)  # type: ignore[assignment,misc]
    elif variant == "no-hls":
        hls.Packager.on_video = lambda self, *arguments: None  # type: ignore[method-assign]
        hls.Packager.on_audio = lambda self, *arguments: None  # type: ignore[method-assign]
    from live.cli import main

    return main(["serve", *argv])


@contextmanager
def app(data: Path, variant: str = "shipped", room_count: int = 1, *extra: str) -> Iterator[tuple[int, str]]:
    """A server process (pid, URL) whose first ``room_count`` rooms take the bench's publisher key."""
    port = free_port()
    env = {**os.environ, "LIVE_METRICS_KEY": KEY, **{key_variable(room): KEY for room in rooms(room_count)}}
    arguments = ["--port", str(port), "--data-dir", str(data), "--config", str(CONFIG),
                 "--log-level", "warning", *extra]  # fmt: skip
    process = subprocess.Popen([sys.executable, __file__, "serve", variant, *arguments], cwd=REPO, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/healthz")
        yield process.pid, url
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def nginx(directory: Path, app_url: str, added: str = "") -> Iterator[tuple[int, str]]:
    """Debian's nginx with the shipped configuration's HLS part (as tests/test_hls_nginx.py runs
    it) and a plain proxy for everything else (the pages and their live stream). ``added``:
    directives to try beside each ``proxy_cache hls;`` of the shipped part (``--nginx-add``)."""
    sys.path.insert(0, str(REPO))
    from tests.test_hls_nginx import hls_parts

    http_part, server_part = hls_parts((REPO / "deploy" / "nginx.conf").read_text())
    server_part = server_part.replace("proxy_cache hls;", f"proxy_cache hls; {added}")
    port = free_port()
    temp = "".join(f"{name}_temp_path {directory / name};" for name in ("proxy", "fastcgi", "uwsgi", "scgi"))
    config = f"""
{"user root;" if os.geteuid() == 0 else ""}
daemon off;
worker_processes 2;
worker_rlimit_nofile 20000;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {directory / "client"};
    {temp}
    {http_part.replace("/var/cache/nginx/hls", str(directory / "cache"))}
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream live {{ server {app_url.removeprefix("http://")}; }}
    server {{
        listen 127.0.0.1:{port};
        {server_part}
        location / {{
            proxy_pass http://live;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 1h;
            proxy_buffering off;
        }}
    }}
}}
"""  # fmt: skip
    (directory / "nginx.conf").write_text(config)
    process = subprocess.Popen([NGINX, "-p", str(directory), "-c", str(directory / "nginx.conf")])
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/healthz")
        yield process.pid, url
    finally:
        process.terminate()
        process.wait(timeout=10)


def nginx_cpu(master: int) -> float:
    """CPU seconds of nginx's workers (children of the master) and the master."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sum(cpu_seconds(pid) for pid in [master, *map(int, children)])


def wait_playlist(url: str, room: str = "main", timeout: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if httpx.get(f"{url}/api/rooms/{room}/hls/index.m3u8", timeout=10).status_code == 200:
            return
        time.sleep(0.5)
    raise RuntimeError(f"no HLS playlist for {room} at {url}")


def hls_requests(url: str, kind: str) -> float:
    """HLS requests of one kind (playlist, segment, init) the app has answered, all rooms (its
    Prometheus counter)."""
    import httpx

    text = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {KEY}"}, timeout=10).text
    prefix, label = "live_hls_requests_total{", f'kind="{kind}"'
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix) and label in line)


def load() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


# -- delay --------------------------------------------------------------------------------------
def session_stats(bench: dict[str, Any], since_ms: float) -> dict[str, Any]:
    """One page load's samples since ``since_ms``: delays (seconds), stalls, unreadable samples."""
    samples = [s for s in bench["samples"] if s[0] >= since_ms]
    readable = [(now, now - age) for now, age, *_ in samples if age is not None]  # (when, stamp)
    changes = [now for i, (now, stamp) in enumerate(readable) if i == 0 or stamp != readable[i - 1][1]]
    ends = [*changes[1:], readable[-1][0]] if readable else []
    holds = [(end - change) / 1000 for change, end in zip(changes, ends, strict=True)]
    hls = [s for s in samples if s[5] is not None]
    return {
        "delays": [(now - stamp) / 1000 for now, stamp in readable],
        "hls_latency": [s[5] for s in hls],  # hls.js's own estimate, seconds
        "hls_target": [s[6] for s in hls],
        "behind_arrival": [s[7] / 1000 for s in hls if s[7] is not None],  # now - the position's PDT
        "samples": len(samples),
        "modes": sorted({s[3] for s in samples}),
        "waiting": sum(t >= since_ms for t in bench["waiting"]),
        "frozen": [hold for hold in holds if hold >= FROZEN],  # the same picture while the clock moved on
    }


def page_stats(name: str, sessions: list[dict[str, Any]]) -> dict[str, Any]:
    ages = sorted(age for session in sessions for age in session["delays"])
    frozen = [hold for session in sessions for hold in session["frozen"]]
    return {
        "page": name,
        "sessions": len(sessions),
        "modes": sorted({mode for session in sessions for mode in session["modes"]}),
        "samples": sum(session["samples"] for session in sessions),
        "read": len(ages),
        "median_s": round(statistics.median(ages), 3) if ages else None,
        "p95_s": round(statistics.quantiles(ages, n=20)[18], 3) if len(ages) > 1 else None,
        "max_s": round(ages[-1], 3) if ages else None,
        "session_medians_s": [round(statistics.median(s["delays"]), 2) if s["delays"] else None for s in sessions],
        "waiting_events": sum(session["waiting"] for session in sessions),
        **{
            f"{key}_median_s": round(statistics.median(values), 3) if values else None
            for key in ("hls_latency", "hls_target", "behind_arrival")
            for values in [[v for session in sessions for v in session[key]]]
        },
        "frozen_pictures": len(frozen),
        "longest_frozen_s": round(max(frozen, default=0.0), 2),
    }


NO_NATIVE_HLS = """(function () {
  var canPlayType = HTMLMediaElement.prototype.canPlayType;
  HTMLMediaElement.prototype.canPlayType = function (type) {
    return /mpegurl/i.test(type) ? "" : canPlayType.call(this, type);
  };
})();"""  # Chromium 156 plays HLS itself; without this, lib/hls_source.js would not use hls.js


NO_BLOCKING_RELOAD = """(function () {
  var text = Object.getOwnPropertyDescriptor(XMLHttpRequest.prototype, "responseText").get;
  Object.defineProperty(XMLHttpRequest.prototype, "responseText", {
    configurable: true,
    get: function () {
      var body = text.call(this), tag = "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\\n";
      return /\\.m3u8/.test(this.responseURL) ? body.replace(tag, "") : body;
    },
  });
})();"""  # hls.js reads playlists as responseText: without the tag, it reloads the plain playlist

NO_MSE = """(function () {
  delete window.MediaSource; delete window.ManagedMediaSource; delete window.WebKitMediaSource;
})();"""  # without Media Source Extensions, lib/hls_source.js leaves HLS to the browser's own player

PageSpec = tuple[str, str, str, dict[str, Any] | None, tuple[str, ...]]


def viewer_pages(arguments: argparse.Namespace, app_url: str, proxy_url: str) -> list[PageSpec]:
    """(name, base URL, mode, hls.js options or None for the browser's own HLS, init scripts)."""
    pages: list[PageSpec] = [
        ("WebRTC, from the app", app_url, "webrtc", None, ()),
        ("HLS (hls.js) through nginx", proxy_url, "hls", {}, ()),
        ("HLS (hls.js) from the app", app_url, "hls", {}, ()),
        ("HLS (hls.js) through nginx, no blocking reload", proxy_url, "hls", {}, (NO_BLOCKING_RELOAD,)),
        ("HLS (Chromium's own) through nginx", proxy_url, "hls", None, (NO_MSE,)),
    ]
    for option in arguments.hls_option:
        name, value = option.split("=", 1)
        pages.append((f"HLS (hls.js) through nginx, {option}", proxy_url, "hls", {name: json.loads(value)}, ()))
    return pages


def open_pages(browser: Any, specifications: list[PageSpec]) -> list[Any]:
    pages = []
    for _, base, mode, options, scripts in specifications:
        context = browser.new_context(base_url=base)
        context.add_init_script(path=str(BENCH / "stamp_reader.js"))
        for script in scripts:
            context.add_init_script(script)
        if mode == "hls":
            context.add_init_script("localStorage.setItem('live.video.mode', 'standard');")
        if options is not None:
            context.add_init_script(NO_NATIVE_HLS)
            context.add_init_script(f"window.__hlsOptions = {json.dumps(options)};")
        pages.append(context.new_page())
    return pages


def delay(arguments: argparse.Namespace) -> None:
    """Each session loads every page afresh (where a player joins the live edge matters for
    HLS), lets it play ``--warmup`` seconds, then samples it for ``--session-seconds``."""
    from playwright.sync_api import sync_playwright
    from stamped_source import StampedPublisher  # beside this script

    sys.path.insert(0, str(REPO))
    from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS

    session_seconds = arguments.session_seconds or arguments.seconds
    count = max(1, round(arguments.seconds / session_seconds))
    with ExitStack() as stack:
        data = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        (data / "app").mkdir()
        (data / "nginx").mkdir()
        _, app_url = stack.enter_context(app(data / "app"))
        _, proxy_url = stack.enter_context(nginx(data / "nginx", app_url, arguments.nginx_add))
        running = count * (session_seconds + arguments.warmup + 60) + 60
        source = StampedPublisher(f"{app_url}/api/rooms/main/whip", running)
        stack.callback(source.stop)
        wait_playlist(app_url)
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
        )
        stack.callback(browser.close)
        specifications = viewer_pages(arguments, app_url, proxy_url)
        pages = open_pages(browser, specifications)
        sessions: list[list[dict[str, Any]]] = [[] for _ in pages]
        loads = [load()]
        for _ in range(count):
            for page in pages:
                page.goto("/r/main")
            for page in pages:
                page.wait_for_function("() => window.__stampBench.samples.some((s) => s[1] !== null)", timeout=60_000)
            time.sleep(arguments.warmup)  # hls.js settles at its live position
            since = time.time() * 1000
            time.sleep(session_seconds)
            for index, page in enumerate(pages):
                sessions[index].append(session_stats(page.evaluate("window.__stampBench"), since))
            loads.append(load())
    results = [page_stats(spec[0], page_sessions) for spec, page_sessions in zip(specifications, sessions, strict=True)]
    print(json.dumps({"load_average": loads, "pages": results}, indent=2))
    webrtc = results[0]["median_s"]
    print(f"\n{count} sessions of {session_seconds:.0f} s; load average (1/5/15 min) at each session's end: {loads}")
    print(f"{'page':<52} {'median':>7} {'p95':>7} {'max':>7} {'x WebRTC':>9} {'waiting':>7} {'frozen':>6}")
    for r in results:
        ratio = f"{r['median_s'] / webrtc:.1f}x" if webrtc and r["median_s"] else "-"
        print(f"{r['page']:<52} {r['median_s']!s:>7} {r['p95_s']!s:>7} {r['max_s']!s:>7} {ratio:>9} "
              f"{r['waiting_events']:>7} {r['frozen_pictures']:>6}")  # fmt: skip


# -- packaging ----------------------------------------------------------------------------------
def packaged(url: str, room: str) -> str:
    """What the room's HLS holds: "none" (no playlist), "video" or "video+aac" (its init section)."""
    import httpx

    playlist = httpx.get(f"{url}/api/rooms/{room}/hls/index.m3u8", timeout=10)
    if playlist.status_code != 200:
        return "none"
    init = next(line.split('"')[1] for line in playlist.text.splitlines() if line.startswith("#EXT-X-MAP"))
    section = httpx.get(f"{url}/api/rooms/{room}/hls/{init}", timeout=10).content
    return "video+aac" if b"mp4a" in section else "video"


def packaging(arguments: argparse.Namespace) -> None:
    names = rooms(arguments.rooms)
    with ExitStack() as stack:
        data = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        servers = {}
        for variant in VARIANTS:
            (data / variant).mkdir()
            servers[variant] = stack.enter_context(app(data / variant, variant, arguments.rooms))
        total = arguments.seconds * arguments.windows + 60
        sources = [publisher(f"{url}/api/rooms/{room}/whip", total) for _, url in servers.values() for room in names]
        for source in sources:
            stack.callback(source.wait, 10)
            stack.callback(source.terminate)
        for variant in ("shipped", "no-aac"):
            for room in names:
                wait_playlist(servers[variant][1], room)
        time.sleep(5)  # every publisher connected and steady
        windows = []
        for _ in range(arguments.windows):
            before = {variant: cpu_seconds(pid) for variant, (pid, _) in servers.items()}
            started, load_before = time.monotonic(), load()
            time.sleep(arguments.seconds)
            elapsed = time.monotonic() - started
            per_room = {v: (cpu_seconds(pid) - before[v]) / elapsed / len(names) for v, (pid, _) in servers.items()}
            rounded = {variant: round(cpu, 4) for variant, cpu in per_room.items()}
            windows.append({"load_average": f"{load_before} -> {load()}", **rounded})
        statuses = {variant: [packaged(url, room) for room in names] for variant, (_, url) in servers.items()}
    median = {v: statistics.median(w[v] for w in windows) for v in VARIANTS}
    print(json.dumps({"rooms": len(names), "windows": windows, "packaged": statuses}, indent=2))
    hls, aac = median["shipped"] - median["no-hls"], median["shipped"] - median["no-aac"]
    print(f"\nper room, median of {len(windows)} windows of {arguments.seconds:.0f} s (% of one core):")
    print(f"  forwarding without HLS (baseline) {median['no-hls'] * 100:6.2f} %")
    print(f"  HLS without AAC                   {median['no-aac'] * 100:6.2f} %")
    print(f"  HLS as shipped (with AAC)         {median['shipped'] * 100:6.2f} %")
    print(f"  packaging: {hls * 100:.2f} % ({hls / median['no-hls']:.2f}x the forwarding), of which the AAC "
          f"rendition {aac * 100:.2f} %; remuxing alone {(hls - aac) * 100:.2f} %")  # fmt: skip


# -- viewers ------------------------------------------------------------------------------------
def player_processes(
    url: str, players: int, processes: int, seconds: float, ramp: float
) -> list[subprocess.Popen[bytes]]:
    shares = [players // processes + (1 if i < players % processes else 0) for i in range(processes)]
    command = [sys.executable, str(BENCH / "hls_players.py"), url]
    return [
        subprocess.Popen([*command, str(share), str(seconds), "--ramp", str(ramp)], cwd=REPO, stdout=subprocess.PIPE)
        for share in shares
        if share
    ]


def phase(
    name: str, pids: dict[str, int], app_url: str, clients: list[subprocess.Popen[bytes]], seconds: float
) -> dict[str, Any]:
    """CPU of the app, nginx and the clients, and HLS requests reaching the app, while ``clients``
    (started, printing ``ready``) run."""
    for client in clients:
        assert client.stdout is not None and client.stdout.readline().strip() == b"ready", f"{name}: not ready"
    meters = {"app": lambda: cpu_seconds(pids["app"]), "nginx": lambda: nginx_cpu(pids["nginx"])}
    meters["clients"] = lambda: sum(cpu_seconds(c.pid) for c in clients)
    meters["playlists_at_app"] = lambda: hls_requests(app_url, "playlist")
    meters["segments_at_app"] = lambda: hls_requests(app_url, "segment")
    before, started, load_before = {k: meter() for k, meter in meters.items()}, time.monotonic(), load()
    time.sleep(seconds * 0.8 if clients else seconds)
    elapsed = time.monotonic() - started
    cpu = {k: round((meter() - before[k]) / elapsed, 4) for k, meter in meters.items()}  # and requests/s
    reports = []
    for client in clients:
        out, _ = client.communicate(timeout=seconds + 120)
        reports.append(json.loads(out.decode().strip().splitlines()[-1]))
    return {"phase": name, "load_average": f"{load_before} -> {load()}", "cpu": cpu, "clients": reports}


def viewers(arguments: argparse.Namespace) -> None:
    seconds, processes, ramp = arguments.seconds, arguments.processes, arguments.ramp
    with ExitStack() as stack:
        data = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        (data / "app").mkdir()
        (data / "nginx").mkdir()
        app_pid, app_url = stack.enter_context(app(data / "app", "shipped", 1, "--max-connections-per-address", "0"))
        nginx_pid, proxy_url = stack.enter_context(nginx(data / "nginx", app_url, arguments.nginx_add))
        source = publisher(f"{app_url}/api/rooms/main/whip", (seconds + arguments.ramp + 30) * 4 + 60)
        stack.callback(source.wait, 10)
        stack.callback(source.terminate)
        wait_playlist(app_url)
        time.sleep(3)
        pids, playlist = {"app": app_pid, "nginx": nginx_pid}, "/api/rooms/main/hls/index.m3u8"
        phases = [phase("no viewer", pids, app_url, [], seconds)]
        if arguments.players:
            clients = player_processes(proxy_url + playlist, arguments.players, processes, seconds, ramp)
            phases.append(phase(f"{arguments.players} HLS players through nginx", pids, app_url, clients, seconds))
        if arguments.direct_players:
            clients = player_processes(app_url + playlist, arguments.direct_players, processes, seconds, ramp)
            phases.append(phase(f"{arguments.direct_players} HLS players at the app", pids, app_url, clients, seconds))
        if arguments.webrtc_viewers:
            whep = f"{app_url}/api/rooms/main/whep"
            clients = viewer_processes(whep, arguments.webrtc_viewers, arguments.webrtc_processes, seconds)
            phases.append(phase(f"{arguments.webrtc_viewers} WebRTC viewers", pids, app_url, clients, seconds))
    print(json.dumps(phases, indent=2))
    idle = phases[0]["cpu"]["app"]
    print(f"\n{'phase':<40} {'app CPU':>8} {'per viewer':>10} {'nginx':>7} {'clients':>8} {'errors':>7} "
          f"{'playlists/s at app':>18} {'segments/s':>10}  load")  # fmt: skip
    for p in phases:
        count = sum(r.get("players", r.get("started", 0)) for r in p["clients"])
        per = f"{(p['cpu']['app'] - idle) / count * 100:.3f}%" if count else "-"
        errors = sum(sum(r.get("errors", {}).values()) + r.get("without_picture", 0) for r in p["clients"])
        print(f"{p['phase']:<40} {p['cpu']['app'] * 100:>7.1f}% {per:>10} {p['cpu']['nginx'] * 100:>6.1f}% "
              f"{p['cpu']['clients'] * 100:>7.1f}% {errors:>7} {p['cpu']['playlists_at_app']:>18.1f} "
              f"{p['cpu']['segments_at_app']:>10.1f}  "
              f"{p['load_average']}")  # fmt: skip


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "serve":  # a server process of this benchmark's
        raise SystemExit(serve(sys.argv[2], sys.argv[3:]))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    scenarios = parser.add_subparsers(dest="scenario", required=True)
    delay_parser = scenarios.add_parser("delay", help="glass-to-glass delay in Chromium, HLS and WebRTC")
    delay_parser.add_argument("--seconds", type=float, default=120, help="measured seconds (the target's: 600)")
    delay_parser.add_argument("--warmup", type=float, default=8, help="seconds of playing before sampling")
    delay_parser.add_argument("--session-seconds", type=float, default=30,
                              help="seconds sampled per page load (0: one load for the whole run)")  # fmt: skip
    delay_parser.add_argument("--hls-option", action="append", default=[], metavar="NAME=JSON",
                              help="another HLS page with this hls.js option on top of player.js's")  # fmt: skip
    packaging_parser = scenarios.add_parser("packaging", help="packaging CPU per room, with and without AAC")
    packaging_parser.add_argument("--rooms", type=int, default=2, help="rooms (publishers) per server")
    packaging_parser.add_argument("--seconds", type=float, default=30, help="seconds per measuring window")
    packaging_parser.add_argument("--windows", type=int, default=3, help="measuring windows")
    viewers_parser = scenarios.add_parser("viewers", help="the app's CPU per HLS and WebRTC viewer")
    viewers_parser.add_argument("--players", type=int, default=1000, help="HLS players through nginx")
    viewers_parser.add_argument("--direct-players", type=int, default=200, help="HLS players straight at the app")
    viewers_parser.add_argument(
        "--webrtc-viewers",
        type=int,
        default=20,
        help="WebRTC viewers (media_bench's; the WHEP limit lets 20 in at once per address)",
    )
    viewers_parser.add_argument("--processes", type=int, default=2, help="processes of HLS players")
    viewers_parser.add_argument("--webrtc-processes", type=int, default=1, help="processes of WebRTC viewers")
    viewers_parser.add_argument("--seconds", type=float, default=30, help="seconds per phase")
    viewers_parser.add_argument("--ramp", type=float, default=10, help="seconds over which players arrive")
    for scenario in (delay_parser, viewers_parser):
        scenario.add_argument("--nginx-add", default="", metavar="DIRECTIVES",
                              help="nginx directives to try beside the shipped HLS cache's")  # fmt: skip
    arguments = parser.parse_args()
    {"delay": delay, "packaging": packaging, "viewers": viewers}[arguments.scenario](arguments)


if __name__ == "__main__":
    main()
