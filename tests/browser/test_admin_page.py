"""The admin page as an organiser uses it: the room table first with totals across rooms, only a
poll open for voting as a room's current poll, the rooms' pending questions packed without gaps,
and each agenda session's replay set up from a form (start and end offsets, hidden), checked
against the replay's own page and API.

Runs against a real ``live serve``; the replay test writes a recording's index as the recorder
does (segments are not needed to list, time or hide a replay). Screenshots land in test-output/.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.browser.questions import QUESTIONS
from tests.browser.test_pages import SHOTS, Watch, browser, log_in  # noqa: F401 (browser is a fixture)
from tests.conftest import ADMIN_KEY, MODERATOR_KEY, LiveServer
from tests.livetools import Person
from tests.test_replay import SESSION_ID, event_file

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
Page = sync_api.Page
expect = sync_api.expect

WIDE = {"viewport": {"width": 1440, "height": 900}}
SMALL = {"viewport": {"width": 1024, "height": 768}}
PENDING = {"main": 1, "industry-chain": 6, "nev-development": 1, "hydrogen-storage": 2}  # pre-moderated rooms

# Per column of the pending cards: the space between a card and the next one below it.
GAPS = """() => {
  const boxes = Array.from(document.querySelectorAll('.admin-group')).map((card) => card.getBoundingClientRect());
  const gaps = [];
  boxes.forEach((box) => {
    const below = boxes.filter((other) => Math.abs(other.left - box.left) < 2 && other.top >= box.bottom - 1);
    if (below.length) gaps.push(Math.min(...below.map((other) => other.top)) - box.bottom);
  });
  return gaps;
}"""


def admin_page(watch: Watch, browser: Browser, server: LiveServer, options: dict[str, object] = WIDE) -> Page:  # noqa: F811
    page = watch.page(browser, server, **options)
    log_in(page, ADMIN_KEY, "/admin")
    expect(page.locator("#admin-note")).to_contain_text("Updated live")
    return page


def test_room_table_first_with_totals_open_polls_only_and_no_gaps(
    start_live: Callable[..., LiveServer],
    browser: Browser,  # noqa: F811
) -> None:
    server = start_live()
    watch = Watch()
    number = 0
    for room, count in PENDING.items():
        for _ in range(count):
            Person(server).ok(room, {"type": "ask_question", "text": QUESTIONS[number]})
            number += 1
    moderator = Person(server)
    moderator.login(MODERATOR_KEY)
    polls = {}
    for room in ("main", "industry-chain"):
        made = moderator.ok(room, {"type": "create_poll", "kind": "single_choice", "question": f"Which first in {room}?",
                                   "options": ["Cells", "Packs"]})  # fmt: skip
        polls[room] = made["poll_id"]
        moderator.ok(room, {"type": "change_poll", "poll_id": made["poll_id"], "action": "open"})
    moderator.ok("industry-chain", {"type": "change_poll", "poll_id": polls["industry-chain"], "action": "close"})

    page = admin_page(watch, browser, server)
    table = page.locator("table.admin-table").first.bounding_box()
    pending = page.locator("#admin-pending").bounding_box()
    assert table and pending and table["y"] < pending["y"], (table, pending)

    rows = page.locator("#admin-rows tr")
    expect(page.locator('tr[data-room="main"] [data-field="poll"]')).to_have_text("Which first in main?")
    expect(page.locator('tr[data-room="industry-chain"] [data-field="poll"]')).to_have_text("—")  # closed: not current
    totals = page.locator('tfoot tr[data-room="*"]')
    expect(totals.locator("th")).to_have_text("All rooms")
    expect(totals.locator('[data-total="pending"]')).to_have_text(str(sum(PENDING.values())))
    expect(totals.locator('[data-total="polls"]')).to_have_text("1 open")
    connections = sum(int(text) for text in rows.locator('[data-field="connections"]').all_text_contents())
    expect(totals.locator('[data-total="connections"]')).to_have_text(str(connections))

    # Totals follow the rooms live: a new question elsewhere, and the main poll closed.
    Person(server).ok("hydrogen-storage", {"type": "ask_question", "text": QUESTIONS[20]})
    moderator.ok("main", {"type": "change_poll", "poll_id": polls["main"], "action": "close"})
    expect(totals.locator('[data-total="pending"]')).to_have_text(str(sum(PENDING.values()) + 1))
    expect(totals.locator('[data-total="polls"]')).to_have_text("0 open")
    expect(page.locator('tr[data-room="main"] [data-field="poll"]')).to_have_text("—")

    expect(page.locator(".admin-group")).to_have_count(len(PENDING))
    gaps = page.evaluate(GAPS)
    assert gaps and max(gaps) < 24, f"space between pending cards in a column: {gaps}"
    page.screenshot(path=SHOTS / "admin-1440.png", full_page=True)
    small = admin_page(watch, browser, server, SMALL)
    small.screenshot(path=SHOTS / "admin-1024.png", full_page=True)
    small.goto("/admin?lang=zh-CN")
    expect(small.locator('tfoot [data-total="polls"]')).to_have_text("0 个进行中")
    expect(small.get_by_role("columnheader", name="当前投票")).to_be_visible()
    small.screenshot(path=SHOTS / "admin-1024-zh.png", full_page=True)
    assert watch.errors == [] and watch.dialogs == [], (watch.errors, watch.dialogs)


def record(data_dir: Path, start: float, end: float) -> None:
    """A run's index as live/media/recording.py writes it: 2 s segments from ``start`` to ``end``."""
    run = data_dir / "recordings" / "main" / "20260101T000000Z-ab"
    run.mkdir(parents=True)
    lines = [
        {
            "file": f"ab-{n}.m4s",
            "init": "init-ab-1.mp4",
            "start": start + 2 * n,
            "duration": 2.0,
            "discontinuity": False,
        }
        for n in range(int((end - start) // 2))
    ]
    (run / "index.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines), "utf-8")


def test_admin_sets_replay_offsets_and_hides_a_replay(
    tmp_path: Path,
    start_live: Callable[..., LiveServer],
    browser: Browser,  # noqa: F811
) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start, end = now - dt.timedelta(minutes=10), now - dt.timedelta(minutes=5)  # over, five minutes long
    data_dir = tmp_path / "data"
    record(data_dir, start.timestamp() - 60, end.timestamp() + 60)  # a minute either side, as recordings go
    server = start_live(data_dir=data_dir, extra=("--config", str(event_file(tmp_path / "event.toml", start, end))))
    info = f"{server.url}/api/rooms/main/replay/{SESSION_ID}"
    assert httpx.get(info).json()["duration"] == 300.0
    watch = Watch()
    page = admin_page(watch, browser, server)

    row = page.locator(f'.admin-replay-room[data-room="main"] tr[data-session="{SESSION_ID}"]')
    expect(row.locator("th")).to_contain_text("Battery footprints")
    expect(row.locator('[data-field="recorded"]')).to_have_text("Recorded: 5:00")
    expect(row.locator('[data-field="replay"] .badge')).to_have_text("Public")
    later = page.locator(".admin-replay-room tr").nth(2)  # the later session: nothing recorded, not over
    expect(later.locator('[data-field="recorded"]')).to_have_text("Nothing recorded")
    expect(later.locator('[data-field="replay"] .badge')).to_have_text("Not over yet")

    # The speaker started a minute late and finished a minute early.
    form = row.get_by_role("form", name="Replay settings: Battery footprints")
    form.get_by_label("Start offset (s)").fill("60")
    form.get_by_label("End offset (s)").fill("-60")
    form.get_by_role("button", name="Save").click()
    expect(form.locator(".form-feedback")).to_have_text("Saved.")
    expect(row.locator('[data-field="recorded"]')).to_have_text("Recorded: 3:00")
    replay = httpx.get(info).json()  # anyone: over and not hidden
    assert replay["duration"] == 180.0 and abs(replay["start"] - (start.timestamp() + 60)) < 0.01, replay

    form.get_by_label("Hide this replay").check()
    form.get_by_role("button", name="Save").click()
    expect(row.locator('[data-field="replay"] .badge')).to_have_text("Hidden")
    assert httpx.get(info).status_code == 404
    assert httpx.get(f"{server.url}/r/main/replay/{SESSION_ID}").status_code == 404
    assert httpx.get(f"{server.url}/r/main").text.count(f"/r/main/replay/{SESSION_ID}") == 0  # no "watch the replay"
    page.screenshot(path=SHOTS / "admin-replays.png", full_page=True)

    # Kept: a reload shows what was saved; unhidden, the replay is back for everyone.
    page.reload()
    form = page.get_by_role("form", name="Replay settings: Battery footprints")
    expect(form.get_by_label("Start offset (s)")).to_have_value("60")
    expect(form.get_by_label("End offset (s)")).to_have_value("-60")
    expect(form.get_by_label("Hide this replay")).to_be_checked()
    form.get_by_label("Hide this replay").uncheck()
    form.get_by_role("button", name="Save").click()
    expect(row.locator('[data-field="replay"] .badge')).to_have_text("Public")
    assert httpx.get(f"{server.url}/r/main/replay/{SESSION_ID}").status_code == 200

    # Too far: the server's refusal is shown under the form, and nothing changes.
    form.get_by_label("Start offset (s)").evaluate("(input) => input.removeAttribute('max')")
    form.get_by_label("Start offset (s)").fill("99999")
    form.get_by_role("button", name="Save").click()
    expect(form.locator(".form-feedback")).to_have_class(re.compile("form-feedback-error"))
    assert httpx.get(info).json()["duration"] == 180.0

    page.goto("/admin?lang=zh-CN")
    zh = page.get_by_role("form", name="回放设置：电池碳足迹")
    expect(zh.get_by_label("开始偏移（秒）")).to_have_value("60")
    expect(page.locator(f'tr[data-session="{SESSION_ID}"] [data-field="recorded"]')).to_have_text("已录制：3:00")
    page.screenshot(path=SHOTS / "admin-replays-zh.png", full_page=True)
    assert watch.errors == [] and watch.dialogs == [], (watch.errors, watch.dialogs)
