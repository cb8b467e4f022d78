"""The moderator console with many questions: how soon it shows an event, and its frame time.

Starts one ``live serve``, fills the main room with --questions questions (a share approved,
some labelled and starred), opens /r/main/moderate in Chromium (Debian's, through Playwright) at
1440x900, and measures, for each room size in --sizes (the smallest is the baseline, measured in
the same run) and each density:

- first draw: navigation to every card of the Pending tab drawn;
- event to screen: a question asked over HTTP (the moderator's own key: no rate limit) until its
  card is in the page (a MutationObserver stamps it), and an upvote from another person until the
  Live tab's card shows the new count; the time counts the HTTP command, the server's write and
  broadcast (votes go out in the next counters batch), the WebSocket, and the console's redraw;
- frame time: requestAnimationFrame intervals while viewers upvote (--rate votes a second) and
  the moderator scrolls the Live tab, plus the console's own render() durations (its
  performance.measure("console-render") entries) and long tasks (over 50 ms).

Figures, never a pass/fail: docs/CAPACITY.md, "Console with 500 questions", has the last ones.

    .venv/bin/python bench/console_bench.py --sizes 20,500 --samples 20 --seconds 8
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parent.parent
ADMIN_KEY = "admin-key-for-the-console-bench"
MODERATOR_KEY = "moderator-key-for-the-console-bench"
LOOPBACK_VENUE = '\n[[venue_networks]]\nname = "loopback (bench)"\nnetworks = ["127.0.0.0/8"]\nphones = 100000\n'
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
TOPICS = [
    "How will the carbon footprint of batteries be counted?",
    "When will hydrogen trucks be cheaper than diesel ones?",
    "What does the recycling plan for old packs look like?",
    "氢能重卡什么时候能比柴油车更便宜？",
    "Which grid upgrades come first for fast charging on highways?",
    "如何核算动力电池全生命周期的碳足迹？",
]
LABELS = ["battery", "hydrogen", "policy", "grid"]

# In the page: stamp when a card appears (its text holds a marker) or shows a vote count.
WATCH = """() => {
  window.__seen = {};
  const list = document.getElementById('mod-list');
  new MutationObserver((records) => {
    const now = Date.now();
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType !== 1 || !node.classList.contains('mod-question')) continue;
        const text = node.querySelector('.q-text');
        const marker = text && (text.textContent.match(/bench-marker-\\d+/) || [])[0];
        if (marker && !(marker in window.__seen)) window.__seen[marker] = now;
        const votes = node.querySelector('.q-votes');
        const key = 'votes:' + node.dataset.id + ':' + (votes ? votes.textContent : '');
        if (!(key in window.__seen)) window.__seen[key] = now;
      }
      const target = record.target.nodeType === 1 ? record.target : record.target.parentElement;
      if (target && target.classList.contains('q-votes')) {  // a count written into the card it has
        const card = target.closest('.mod-question');
        const key = 'votes:' + card.dataset.id + ':' + target.textContent;
        if (!(key in window.__seen)) window.__seen[key] = now;
      }
    }
  }).observe(list, {childList: true, subtree: true, characterData: true});
}"""

FRAMES_START = """() => {
  window.__frames = []; window.__renders = []; window.__long = [];
  new PerformanceObserver((list) => list.getEntries().forEach((entry) => {
    if (entry.name === 'console-render') window.__renders.push(entry.duration);
  })).observe({type: 'measure'});
  new PerformanceObserver((list) => list.getEntries().forEach((entry) => window.__long.push(entry.duration)))
    .observe({type: 'longtask'});
  let last = performance.now();
  window.__framing = true;
  const tick = (now) => {
    window.__frames.push(now - last);
    last = now;
    if (window.__framing) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""
FRAMES_STOP = """() => {
  window.__framing = false;
  return {frames: window.__frames, renders: window.__renders, long: window.__long};
}"""
ALL_DRAWN = """(tab) => document.querySelector('#live-status').classList.contains('status-live')
  && document.querySelectorAll('.mod-question').length > 0
  && document.querySelectorAll('.mod-question').length
     === Number(document.querySelector(`[data-count=${tab}]`).textContent)"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def export_tree(ref: str, into: Path) -> Path:
    """The repository at ``ref`` (git archive), to serve its pages as the baseline: ``python -m
    live`` run from there imports that tree's package and serves that tree's web/ folder."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def start_server(data: Path, port: int, tree: Path = REPO) -> subprocess.Popen[bytes]:
    data.mkdir(parents=True, exist_ok=True)
    config = data / "event.toml"
    config.write_text((REPO / "config" / "summit-2023.toml").read_text(encoding="utf-8") + LOOPBACK_VENUE)
    environment = {**os.environ, "LIVE_ADMIN_KEY": ADMIN_KEY, "LIVE_MODERATOR_KEY": MODERATOR_KEY,
                   "LIVE_SECRET": "console-bench-secret-0123456789abcdef"}  # fmt: skip
    command = [sys.executable, "-m", "live", "serve", "--port", str(port), "--data-dir", str(data),
               "--config", str(config), "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(command, cwd=tree, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("live serve did not start")


def moderator(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    client.get("/")
    assert client.post("/api/login", json={"key": MODERATOR_KEY}).status_code == 200
    return client


def send(client: httpx.Client, command: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/rooms/main/commands", json=command)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def fill_room(client: httpx.Client, room: str, questions: int) -> list[str]:
    """``questions`` questions in ``room``: 60 % approved (the Live tab), every fifth labelled,
    every tenth starred; the rest wait in Pending. Returns the live ones' ids."""
    path = f"/api/rooms/{room}/commands"
    ids = []
    for number in range(questions):
        text = f"{TOPICS[number % len(TOPICS)]} (#{number})"
        response = client.post(path, json={"type": "ask_question", "text": text})
        assert response.status_code == 200, response.text
        ids.append(response.json()["question"]["id"])
    live = ids[: questions * 6 // 10]
    for start in range(0, len(live), 200):
        batch = live[start : start + 200]
        client.post(path, json={"type": "moderate_questions", "question_ids": batch, "action": "approve"})
    for number, question_id in enumerate(live):
        if number % 5 == 0:
            labels = [LABELS[number % 4]]
            client.post(path, json={"type": "label_question", "question_id": question_id, "labels": labels})
        if number % 10 == 0:
            client.post(path, json={"type": "star_question", "question_id": question_id, "starred": True})
    return live


def quantiles(values: list[float]) -> str:
    if not values:
        return "—"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):6.1f}  p95 {p95:6.1f}  max {ordered[-1]:6.1f}"


def wait_seen(page: Page, key: str, timeout: float = 10.0) -> float:
    page.wait_for_function("(key) => key in window.__seen", arg=key, timeout=timeout * 1000, polling=5)
    return float(page.evaluate("(key) => window.__seen[key]", key))


def open_console(page: Page, compact: bool) -> float:
    page.goto("/login?next=/r/main/moderate")
    page.evaluate("(c) => localStorage.setItem('live.console.density', c ? 'compact' : 'comfortable')", compact)
    page.get_by_label("Access key").fill(MODERATOR_KEY)
    started = time.time()
    page.get_by_role("button", name="Log in").click()
    page.wait_for_function(ALL_DRAWN, arg="pending", timeout=60_000, polling=10)
    return (time.time() - started) * 1000


def people(base: str, count: int) -> list[httpx.Client]:
    """Viewers, each with an identity of their own (one vote each per question)."""
    found = []
    for _ in range(count):
        person = httpx.Client(base_url=base, timeout=10)
        person.get("/")
        found.append(person)
    return found


BUSY = ("TaskDuration", "ScriptDuration", "RecalcStyleDuration", "LayoutDuration")


def main_thread(cdp: Any) -> dict[str, float]:
    """The renderer's main thread so far (Chrome's Performance.getMetrics): seconds spent in
    tasks, script, style and layout. Less at the mercy of a busy machine than frame intervals,
    which count the time the renderer waited for a core."""
    metrics = {item["name"]: float(item["value"]) for item in cdp.send("Performance.getMetrics")["metrics"]}
    return {name: metrics.get(name, 0.0) for name in BUSY}


def measure(base: str, page: Page, client: httpx.Client, live_ids: list[str],
            compact: bool, samples: int, seconds: float, rate: float, marker: list[int]) -> dict[str, Any]:  # fmt: skip
    voters = people(base, max(samples, 40))  # new ones each run: every upvote changes a count
    first_draw = open_console(page, compact)
    page.evaluate(WATCH)
    asked = []
    for _ in range(samples):  # the Pending tab is shown: a new question arrives in it
        marker[0] += 1
        key = f"bench-marker-{marker[0]}"
        sent = time.time() * 1000
        send(client, {"type": "ask_question", "text": f"{TOPICS[marker[0] % len(TOPICS)]} {key}"})
        asked.append(wait_seen(page, key) - sent)
    page.get_by_role("tab", name="Live").click()
    page.wait_for_function(ALL_DRAWN, arg="live", timeout=60_000)
    voted = []
    for number in range(samples):  # an upvote on a card near the top
        question_id = live_ids[number % 10]
        sent = time.time() * 1000
        result = voters[number].post("/api/rooms/main/commands", json={"type": "upvote", "question_id": question_id})
        assert result.status_code == 200, result.text
        voted.append(wait_seen(page, f"votes:{question_id}:▲ {result.json()['votes']}") - sent)

    # frame time while votes stream in and the moderator scrolls
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    before, measured_from = main_thread(cdp), time.monotonic()
    page.evaluate(FRAMES_START)
    stop = threading.Event()

    def votes_stream() -> None:  # each voter votes once on each question, in turn
        number = 0
        while not stop.is_set():
            voter = voters[number % len(voters)]
            question_id = live_ids[(number // len(voters)) % len(live_ids)]
            with contextlib.suppress(httpx.HTTPError):
                voter.post("/api/rooms/main/commands", json={"type": "upvote", "question_id": question_id})
            number += 1
            stop.wait(1 / rate)

    thread = threading.Thread(target=votes_stream, daemon=True)
    thread.start()
    started = time.monotonic()
    direction = 1
    while time.monotonic() - started < seconds:
        page.mouse.move(500, 600)
        page.mouse.wheel(0, 400 * direction)
        page.wait_for_timeout(100)
        at = page.evaluate("() => [window.scrollY, document.documentElement.scrollHeight - window.innerHeight]")
        if at[0] >= at[1] - 10:
            direction = -1
        elif at[0] <= 10:
            direction = 1
    stop.set()
    thread.join()
    frames = page.evaluate(FRAMES_STOP)
    elapsed = time.monotonic() - measured_from
    busy = {name: (value - before[name]) * 1000 / elapsed for name, value in main_thread(cdp).items()}
    for voter in voters:
        voter.close()
    cards = page.evaluate("() => document.querySelectorAll('.mod-question').length")
    return {"first_draw": first_draw, "asked": asked, "voted": voted, "cards": cards, "busy": busy, **frames}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="20,500", help="room sizes in questions, comma separated (first: baseline)")
    parser.add_argument("--samples", type=int, default=20, help="events timed per kind")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds of scrolling under votes, per run")
    parser.add_argument("--rate", type=float, default=10.0, help="upvotes a second during the frame-time run")
    parser.add_argument("--against", metavar="REF", help="also measure this git ref's console (e.g. main): a baseline")
    arguments = parser.parse_args()
    sizes = [int(size) for size in arguments.sizes.split(",")]
    marker = [0]
    with tempfile.TemporaryDirectory() as directory, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print(f"Chromium {browser.version}, {os.cpu_count()} CPUs; viewport 1440x900")
        trees = [("this tree", REPO)]
        if arguments.against:
            trees.insert(0, (arguments.against, export_tree(arguments.against, Path(directory) / "baseline")))
        for (name, tree), size in [(tree, size) for size in sizes for tree in trees]:
            port = free_port()
            server = start_server(Path(directory) / f"data-{size}-{trees.index((name, tree))}", port, tree)
            baseline = tree != REPO
            base = f"http://127.0.0.1:{port}"
            try:
                client = moderator(base)
                send(client, {"type": "set_moderation", "mode": "pre"})
                live_ids = fill_room(client, "main", size)
                for compact in (False,) if baseline else (False, True):  # the baseline may have no compact view
                    context = browser.new_context(base_url=base, viewport={"width": 1440, "height": 900})
                    page = context.new_page()
                    result = measure(base, page, client, live_ids, compact,
                                     arguments.samples, arguments.seconds, arguments.rate, marker)  # fmt: skip
                    context.close()
                    frames = result["frames"][1:]
                    slow = sum(1 for frame in frames if frame > 50)
                    density = "compact" if compact else "comfortable"
                    renders = result["renders"]
                    print(f"\n{name}: {size} questions ({result['cards']} cards in the Live tab), {density}:")
                    print(f"  first draw (log in to every Pending card): {result['first_draw']:7.0f} ms")
                    print(f"  question asked -> card shown (ms):    {quantiles(result['asked'])}")
                    print(f"  upvote -> count shown (ms):           {quantiles(result['voted'])}")
                    print(f"  frame interval while scrolling (ms):  {quantiles(frames)}  ({len(frames)} frames,"
                          f" {slow} over 50 ms)")  # fmt: skip
                    print(f"  console render() (ms):                {quantiles(renders)}  ({len(renders)} renders)")
                    print(f"  long tasks: {len(result['long'])}, longest {max(result['long'] or [0]):.0f} ms")
                    busy = result["busy"]
                    print(f"  main thread, ms per second of scrolling under votes: tasks {busy['TaskDuration']:.0f},"
                          f" script {busy['ScriptDuration']:.0f}, style {busy['RecalcStyleDuration']:.0f},"
                          f" layout {busy['LayoutDuration']:.0f}")  # fmt: skip
                client.close()
            finally:
                server.terminate()
                server.wait(timeout=10)
        browser.close()


if __name__ == "__main__":
    main()
