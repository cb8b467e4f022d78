"""The presenter view in a real browser: a speaker's tablet with the room's presenter key, while a
moderator highlights a question and sends a private note from the console.

Runs against a real ``live serve`` (embedded engine) with the summit's event file plus a session
running now, so there is time left to show. Screenshots (1280x800 tablet, 1920x1080 monitor, in
English and Chinese) land in test-output/ for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.browser.test_pages import SHOTS, Watch, browser, log_in  # noqa: F401 (browser is a fixture)
from tests.conftest import MODERATOR_KEY, REPO, LiveServer, free_port
from tests.livetools import Person

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
Page = sync_api.Page
expect = sync_api.expect

PRESENTER_KEY = "presenter-key-for-tests-main"
TABLET = {"width": 1280, "height": 800}
MONITOR = {"width": 1920, "height": 1080}
NOTE = "Two minutes left — take the question from the floor 还剩两分钟"
NOW_ANSWERING = "Will hydrogen trucks be cheaper than battery trucks by 2030? 氢能卡车会比电池卡车便宜吗？"


def event_with_a_session_now(directory: Path) -> Path:
    """The summit's event file with a session in the main forum that started 10 minutes ago and
    ends in 25 (the event's own time zone), and the event's dates stretched to include today."""
    now = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)
    start, end = now - dt.timedelta(minutes=10), now + dt.timedelta(minutes=25)
    session = (
        "[[rooms.sessions]]\n"
        'title = { en = "Panel: the road to zero-emission freight", zh = "圆桌：零排放货运之路" }\n'
        f"start = {start.isoformat()}\nend = {end.isoformat()}\nspeakers = []\n\n"
    )
    text = (REPO / "config" / "summit-2023.toml").read_text("utf-8")
    text = text.replace("end_date = 2023-09-20", f"end_date = {end.date().isoformat()}", 1)
    text = text.replace("[[rooms.polls]]", session + "[[rooms.polls]]", 1)  # the first room's: main
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "event-with-a-session-now.toml"
    path.write_text(text, "utf-8")
    return path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    config = event_with_a_session_now(tmp_path / "config")
    live = LiveServer(
        free_port(), tmp_path / "data", config=config, environment={"LIVE_PRESENTER_KEY_MAIN": PRESENTER_KEY}
    )
    live.start()
    yield live
    live.stop()


def live_question(server: LiveServer, moderator: Person, text: str, votes: int) -> str:
    question_id: str = Person(server).ok("main", {"type": "ask_question", "text": text})["question"]["id"]
    moderator.ok("main", {"type": "moderate_question", "question_id": question_id, "action": "approve"})
    for _ in range(votes):
        Person(server).ok("main", {"type": "upvote", "question_id": question_id})
    return question_id


NEXT_TEXTS = (
    "() => Array.from(document.querySelectorAll('#presenter-next-list .presenter-next-text')).map(n => n.textContent)"
)
OVERFLOWING = """() => Array.from(document.querySelectorAll('.presenter-stage *')).filter(n => {
  if (!n.offsetParent) return false;
  const box = n.getBoundingClientRect();
  return box.right > window.innerWidth + 1 || box.bottom > window.innerHeight + 1;
}).map(n => n.id || n.className)"""
# Every part shows whole: the question, the poll's every option, the note (they shrink to fit).
PARTS_FIT = """() => ['presenter-question-box', 'presenter-poll-results', 'presenter-note-text'].every(id => {
  const box = document.getElementById(id);
  return box.offsetParent === null || (box.scrollHeight <= box.clientHeight + 1 && box.scrollWidth <= box.clientWidth + 1);
}) && Array.from(document.querySelectorAll('.presenter-tally-label')).every(n => n.scrollWidth <= n.clientWidth + 1)"""
QUESTION_FONT = "() => parseFloat(getComputedStyle(document.getElementById('presenter-question')).fontSize)"


def test_presenter_view_follows_the_room(server: LiveServer, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    moderator = Person(server)
    moderator.login(MODERATOR_KEY)
    answering = live_question(server, moderator, NOW_ANSWERING, votes=1)
    live_question(
        server, moderator, "How will the grid cope with millions of chargers? 电网如何应对数百万充电桩？", votes=2
    )
    popular = live_question(
        server, moderator, "What does carbon neutrality cost a small supplier? 小供应商的碳中和成本？", votes=4
    )
    quiet = live_question(server, moderator, "Is recycling of batteries profitable yet?", votes=0)
    Person(server).ok("main", {"type": "ask_question", "text": "An unmoderated question the speaker must not see"})
    created = moderator.ok("main", {"type": "create_poll", "kind": "single_choice", "question": "Which fuel for long-haul trucks? 长途卡车用什么燃料？", "options": ["Hydrogen 氢能", "Battery 电池", "Diesel 柴油"]})  # fmt: skip
    moderator.ok("main", {"type": "change_poll", "poll_id": created["poll_id"], "action": "open"})
    for choice in ("Hydrogen 氢能", "Hydrogen 氢能", "Battery 电池"):
        Person(server).ok("main", {"type": "vote_poll", "poll_id": created["poll_id"], "choices": [choice]})

    # The speaker's tablet, with the presenter key: the next questions by votes, no pending one.
    tablet = watch.page(browser, server, viewport=TABLET)
    log_in(tablet, PRESENTER_KEY, "/r/main/presenter")
    expect(tablet.locator("#live-status")).to_have_text("Live")
    tablet.wait_for_function(f"() => ({NEXT_TEXTS})().length === 4")
    texts = tablet.evaluate(NEXT_TEXTS)
    assert texts[0].startswith("What does carbon neutrality cost") and texts[1].startswith("How will the grid")
    assert texts[2] == NOW_ANSWERING and texts[3] == "Is recycling of batteries profitable yet?"
    expect(tablet.locator(".presenter-stage")).not_to_contain_text("unmoderated")
    expect(tablet.locator("#presenter-question")).to_have_text("No question is being answered.")
    assert tablet.evaluate(PARTS_FIT)
    tablet.screenshot(path=SHOTS / "presenter-1280x800-nothing-answered.png")

    # Time left in the session running now (25 minutes from the test's start), from the agenda.
    expect(tablet.locator("#presenter-time-left")).to_have_text(re.compile(r"^2[2-5]:\d\d$"))
    expect(tablet.locator("#presenter-time-label")).to_have_text("left in this session")
    expect(tablet.locator("#presenter-session")).to_have_text("Panel: the road to zero-emission freight")

    # The open poll's result, live.
    expect(tablet.locator("#presenter-poll")).to_be_visible()
    expect(tablet.locator("#presenter-poll-question")).to_have_text(
        "Which fuel for long-haul trucks? 长途卡车用什么燃料？"
    )
    expect(tablet.locator('.presenter-tally-row[data-option="Hydrogen 氢能"] .presenter-tally-value')).to_have_text(
        "2 · 67%"
    )
    Person(server).ok("main", {"type": "vote_poll", "poll_id": created["poll_id"], "choices": ["Battery 电池"]})
    expect(tablet.locator('.presenter-tally-row[data-option="Battery 电池"] .presenter-tally-value')).to_have_text(
        "2 · 50%"
    )
    expect(tablet.locator("#presenter-poll-footer")).to_have_text("4 ballots")

    # The moderator highlights a question and sends a note from the console: both show at once.
    console = watch.page(browser, server, viewport={"width": 1440, "height": 900})
    log_in(console, MODERATOR_KEY, "/r/main/moderate")
    expect(console.locator("#live-status")).to_have_text("Live")
    console.get_by_role("tab", name=re.compile("Live")).click()
    console.locator(f'.mod-question[data-id="{answering}"]').get_by_role("button", name="Highlight").click()
    expect(tablet.locator("#presenter-question")).to_have_text(NOW_ANSWERING)
    expect(tablet.locator("#presenter-question-meta")).to_have_text("▲ 1")
    tablet.wait_for_function(f"() => ({NEXT_TEXTS})().length === 3")
    assert NOW_ANSWERING not in tablet.evaluate(NEXT_TEXTS)
    expect(tablet.locator("#presenter-note")).to_be_hidden()
    console.get_by_placeholder("e.g. Two minutes left").fill(NOTE)
    console.get_by_role("button", name="Send to presenter").click()
    expect(tablet.locator("#presenter-note-text")).to_have_text(NOTE)
    expect(tablet.locator("#presenter-note")).to_contain_text("From the moderators · just now")
    expect(console.locator("#presenter-note-shown")).to_have_text(NOTE)
    console.locator(".presenter-control").screenshot(path=SHOTS / "moderator-presenter-note.png")

    # Votes move the list live; the note never reaches the public.
    for _ in range(5):
        Person(server).ok("main", {"type": "upvote", "question_id": quiet})
    tablet.wait_for_function(f"() => ({NEXT_TEXTS})()[0] === 'Is recycling of batteries profitable yet?'")
    public = Person(server).http.get("/api/rooms/main").text
    assert "Two minutes left" not in public and "presenter_note" not in public
    assert popular in public

    # Large and whole: nothing off the tablet's screen, the question in large type; then the
    # other sizes and the other language.
    assert tablet.evaluate(OVERFLOWING) == [] and tablet.evaluate(PARTS_FIT)
    assert tablet.evaluate(QUESTION_FONT) >= 40
    tablet_font = tablet.evaluate(QUESTION_FONT)
    tablet.screenshot(path=SHOTS / "presenter-1280x800-en.png")
    tablet.set_viewport_size(MONITOR)
    tablet.wait_for_function(f"() => {QUESTION_FONT[6:]} >= 56")
    assert tablet.evaluate(OVERFLOWING) == [] and tablet.evaluate(PARTS_FIT)
    tablet.screenshot(path=SHOTS / "presenter-1920x1080-en.png")
    tablet.goto("/r/main/presenter?lang=zh-CN")
    expect(tablet.locator("#live-status")).to_have_text("实时")
    expect(tablet.locator("#presenter-time-label")).to_have_text("本场剩余时间")
    expect(tablet.locator("#presenter-session")).to_have_text("圆桌：零排放货运之路")
    expect(tablet.locator("#presenter-note-text")).to_have_text(NOTE)  # from the snapshot
    assert tablet.evaluate(OVERFLOWING) == [] and tablet.evaluate(PARTS_FIT)
    tablet.screenshot(path=SHOTS / "presenter-1920x1080-zh.png")
    tablet.set_viewport_size(TABLET)
    tablet.wait_for_function(f"() => {QUESTION_FONT[6:]} === {tablet_font}")
    assert tablet.evaluate(OVERFLOWING) == [] and tablet.evaluate(PARTS_FIT)
    tablet.screenshot(path=SHOTS / "presenter-1280x800-zh.png")

    # Cleared from the console: the band goes away.
    console.get_by_role("button", name="Clear", exact=True).last.click()
    expect(tablet.locator("#presenter-note")).to_be_hidden()
    expect(console.locator("#presenter-note-current")).to_be_hidden()

    assert watch.dialogs == [] and watch.errors == [], f"dialogs {watch.dialogs}, script errors {watch.errors}"


def test_the_presenter_key_opens_only_the_presenter_view(server: LiveServer, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    tablet = watch.page(browser, server, viewport=TABLET)
    # Sent to the login form, a mistyped key keeps where the operator was going.
    tablet.goto("/r/main/presenter")
    expect(tablet).to_have_url(re.compile(r"/login\?next=/r/main/presenter$"))
    tablet.get_by_label("Access key").fill("a mistyped presenter key")
    tablet.get_by_role("button", name="Log in").click()
    expect(tablet.get_by_role("alert")).to_have_text("That key is not valid for this event.")
    tablet.get_by_label("Access key").fill(PRESENTER_KEY)
    tablet.get_by_role("button", name="Log in").click()
    expect(tablet).to_have_url(re.compile(r"/r/main/presenter$"))
    expect(tablet.locator("#live-status")).to_have_text("Live")
    expect(tablet.locator("button, input, select, textarea, a")).to_have_count(0)  # nothing to press by accident
    tablet.goto("/r/main/moderate")
    expect(tablet).to_have_url(re.compile(r"/login\?next=/r/main/moderate$"))
    assert tablet.request.get("/api/rooms/main?as=moderator").status == 403
    assert tablet.request.get("/api/rooms/main?as=presenter").status == 200
    command = {"type": "set_presenter_note", "text": "from the speaker"}
    refused = tablet.request.post("/api/rooms/main/commands", data=json.dumps(command),
                                  headers={"content-type": "application/json", "origin": server.url})  # fmt: skip
    assert refused.status == 403
    tablet.goto("/r/industry-chain/presenter")  # another room's presenter view needs that room's key
    expect(tablet).to_have_url(re.compile(r"/login\?next=/r/industry-chain/presenter$"))
    assert watch.errors == []
