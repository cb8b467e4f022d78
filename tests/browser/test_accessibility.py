"""Accessibility (issue 14): every page passes axe-core with no serious or critical violation, in
both languages; the viewer's vote buttons are named with their question; new questions and poll
openings are announced politely; tabs move with the arrow keys; and a viewer can do everything
from the keyboard.

axe-core is vendored for the tests only (tests/browser/vendor/). The pages' Content-Security-Policy
refuses inline scripts, which is how ``page.add_script_tag`` injects one, so the test evaluates
the library's text through the DevTools protocol instead, which the policy does not govern: the
pages are checked under the policy they are served with."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.chromium import launch
from tests.browser.test_pages import PHONE, Watch, log_in
from tests.conftest import ADMIN_KEY, MODERATOR_KEY, SCREEN_KEY, LiveServer
from tests.livetools import Person

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
Page = sync_api.Page
expect = sync_api.expect

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
LANGUAGES = ("en", "zh-CN")
RUN_AXE = """() => axe.run(document, {resultTypes: ["violations"]}).then((result) =>
  result.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + ": " + n.failureSummary.split("\\n").slice(1, 3).join(" ")),
  })))"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch() as browser:
        yield browser


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(RUN_AXE)
    return found


def assert_accessible(page: Page, name: str) -> None:
    found = serious_violations(page)
    assert found == [], f"{name}: " + json.dumps(found, ensure_ascii=False, indent=1)


def tab_to(page: Page, target: Any, limit: int = 80, back: bool = False) -> None:
    """Press Tab (Shift+Tab) until ``target`` has the focus, as a keyboard user gets there."""
    for _ in range(limit):
        if target.evaluate("(node) => node === document.activeElement"):
            return
        page.keyboard.press("Shift+Tab" if back else "Tab")
    raise AssertionError(f"{target} cannot be reached with the Tab key")


def moderator_api(server: LiveServer) -> Person:
    moderator = Person(server)
    moderator.login(MODERATOR_KEY)
    return moderator


def open_poll(moderator: Person, question: str, options: list[str], kind: str = "single_choice",
              visibility: str = "live") -> str:  # fmt: skip
    poll_id = str(moderator.ok("main", {"type": "create_poll", "kind": kind, "question": question, "options": options,
                                        "visibility": visibility})["poll_id"])  # fmt: skip
    moderator.ok("main", {"type": "change_poll", "poll_id": poll_id, "action": "open"})
    return poll_id


def recorded_replay(tmp_path: Path, start_live: Callable[..., LiveServer]) -> tuple[LiveServer, str]:
    """A server whose session ended half an hour ago with a (made up) minute of it recorded: the
    replay page is drawn from the index of the recording, which is all axe needs to read it."""
    from tests.test_replay import SESSION_ID, event_file

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start, end = now - dt.timedelta(minutes=90), now - dt.timedelta(minutes=30)
    server = start_live(extra=("--config", str(event_file(tmp_path / "replay-event.toml", start, end))))
    run = server.data_dir / "recordings" / "main" / "run-1"
    run.mkdir(parents=True)
    (run / "init-1.mp4").write_bytes(b"\0" * 64)
    lines = []
    for n in range(3):
        (run / f"seg{n}.m4s").write_bytes(b"\0" * 64)
        line = {"file": f"seg{n}.m4s", "init": "init-1.mp4", "start": start.timestamp() + 60 + n,
                "duration": 1.0, "discontinuity": n == 0}  # fmt: skip
        lines.append(json.dumps(line))
    (run / "index.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return server, f"/r/main/replay/{SESSION_ID}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_page_has_a_serious_or_critical_violation(
    language: str, start_live: Callable[..., LiveServer], browser: Browser, tmp_path: Path
) -> None:
    server = start_live()
    watch = Watch()
    moderator = moderator_api(server)
    moderator.ok("main", {"type": "set_moderation", "mode": "post"})
    for text in ("When will cars be carbon neutral? 汽车行业何时实现碳中和？", "How are batteries recycled?"):
        moderator.ok("main", {"type": "ask_question", "text": text})
    answered = moderator.ok("main", {"type": "ask_question", "text": "Answered already?"})["question"]["id"]
    moderator.ok("main", {"type": "moderate_question", "question_id": answered, "action": "mark_answered"})
    moderator.ok("main", {"type": "set_moderation", "mode": "pre"})
    moderator.ok("main", {"type": "ask_question", "text": "Pending, for the console"})
    open_poll(moderator, "Which matters most? 哪个最重要？", ["Batteries 电池", "Hydrogen 氢能", "Grid 电网"])
    suffix = f"?lang={language}"

    def check(page: Page, name: str, ready: str) -> None:
        page.wait_for_selector(ready, state="attached")
        assert_accessible(page, f"{name} ({language})")

    anyone = watch.page(browser, server)
    for path, name, ready in (("/login", "login", "form"), ("/", "lobby", "main")):
        anyone.goto(path + suffix)
        check(anyone, name, ready)

    phone = watch.page(browser, server, viewport=PHONE, is_mobile=True, has_touch=True)
    phone.goto("/r/main" + suffix)
    expect(phone.locator("#live-status")).to_have_class(re.compile("status-live"))
    phone.locator("#ask-text").fill("My own question, awaiting moderation")
    phone.locator("#ask-submit").click()
    expect(phone.locator(".question-pending")).to_have_count(1)
    check(phone, "viewer on a phone, with a poll and an own pending question", "#poll .choice")
    phone.locator("#poll .choice input").first.check()
    phone.locator("#poll form button[type=submit]").click()
    expect(phone.locator("#poll .my-vote")).to_be_visible()
    phone.locator("#answered-section summary").click()
    check(phone, "viewer after voting, answered questions open", "#poll .tally")

    for key, path, name, ready in (
        (MODERATOR_KEY, "/r/main/moderate", "moderator console", ".mod-question"),
        (MODERATOR_KEY, "/r/main/presenter", "presenter", "body"),
        (SCREEN_KEY, "/r/main/screen", "venue screen", ".tally-row"),
        (SCREEN_KEY, "/screen", "foyer screen", "#lobby-slide > *"),
        (ADMIN_KEY, "/r/main/broadcast", "broadcast", "#broadcast-start"),
        (ADMIN_KEY, "/admin", "admin", "#admin-rows tr"),
    ):
        page = watch.page(browser, server, viewport={"width": 1280, "height": 800})
        log_in(page, key, path)
        page.goto(path + suffix)
        expect(page.locator("html")).to_have_attribute("lang", language)
        if page.locator("#live-status").count():  # a page on the room's stream: axe reads the drawn room
            expect(page.locator("#live-status")).to_have_class(re.compile("status-live"))
        check(page, name, ready)
        page.context.close()

    replay_server, replay_path = recorded_replay(tmp_path, start_live)
    replay = watch.page(browser, replay_server)
    replay.goto(replay_path + suffix)
    check(replay, "replay", "video")
    assert watch.errors == [], f"script errors: {watch.errors}"


def test_axe_runs_under_the_pages_policy(start_live: Callable[..., LiveServer], browser: Browser) -> None:
    """The check itself: injected despite the strict CSP, and it does find a violation."""
    server = start_live()
    page = Watch().page(browser, server)
    page.goto("/r/main")
    assert serious_violations(page) == []
    page.evaluate("() => document.querySelector('main').append(document.createElement('img'))")  # no alt text
    assert "image-alt" in [violation["id"] for violation in serious_violations(page)]


def test_vote_buttons_are_named_with_their_question(start_live: Callable[..., LiveServer], browser: Browser) -> None:
    server = start_live()
    moderator = moderator_api(server)
    moderator.ok("main", {"type": "set_moderation", "mode": "post"})
    texts = ["When will cars be carbon neutral?", "How are batteries recycled?", "氢能卡车什么时候便宜？"]
    for text in texts:
        moderator.ok("main", {"type": "ask_question", "text": text})
    page = Watch().page(browser, server, viewport=PHONE)
    page.goto("/r/main")
    expect(page.locator(".vote-button")).to_have_count(3)
    names = [button.evaluate("(node) => node.textContent.trim()") for button in page.locator(".vote-button").all()]
    assert len(set(names)) == 3, names  # a dozen identical "upvote (4 votes)" told a screen reader nothing
    for text in texts:
        button = page.get_by_role("button", name=f"0 votes. Upvote: {text}", exact=True)
        expect(button).to_have_count(1)
    page.get_by_role("button", name="0 votes. Upvote: How are batteries recycled?").click()
    expect(page.get_by_role("button", name="1 votes. Upvote: How are batteries recycled?")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.goto("/r/main?lang=zh-CN")
    expect(page.get_by_role("button", name="0 票。点赞：氢能卡车什么时候便宜？")).to_have_count(1)


def test_new_questions_and_poll_openings_are_announced_politely(
    start_live: Callable[..., LiveServer], browser: Browser
) -> None:
    server = start_live()
    moderator = moderator_api(server)
    page = Watch().page(browser, server, viewport=PHONE)
    page.goto("/r/main")
    expect(page.locator("#live-status")).to_have_text("Live")
    announcer = page.locator("#announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    moderator.ok("main", {"type": "ask_question", "text": "Approved while you listen?"})
    pending = moderator.http.get("/api/rooms/main?as=moderator").json()["live"]["questions"][0]["id"]
    moderator.ok("main", {"type": "moderate_question", "question_id": pending, "action": "approve"})
    expect(announcer).to_have_text("New question: Approved while you listen?")
    moderator.ok("main", {"type": "set_moderation", "mode": "post"})
    for text in ("One", "Two", "Three"):  # a burst is one sentence
        moderator.ok("main", {"type": "ask_question", "text": text})
    expect(announcer).to_have_text("3 new questions")
    open_poll(moderator, "Open now?", ["Yes", "No"])
    expect(announcer).to_have_text("Poll open: Open now?")


def test_tabs_move_with_the_arrow_keys(start_live: Callable[..., LiveServer], browser: Browser) -> None:
    server = start_live()
    page = Watch().page(browser, server, viewport={"width": 1280, "height": 800})
    log_in(page, MODERATOR_KEY, "/r/main/moderate")
    expect(page.locator("#live-status")).to_have_text("Live")
    tabs = page.get_by_role("tab")
    pending = page.get_by_role("tab", name=re.compile("Pending"))
    tab_to(page, pending)
    for key, name in (("ArrowRight", "Live"), ("ArrowRight", "Answered"), ("End", "Archived"),
                      ("ArrowRight", "Pending"), ("ArrowLeft", "Archived"), ("Home", "Pending")):  # fmt: skip
        page.keyboard.press(key)
        chosen = page.get_by_role("tab", name=re.compile(name))
        expect(chosen).to_be_focused()
        expect(chosen).to_have_attribute("aria-selected", "true")
        expect(page.locator('[role="tab"][tabindex="0"]')).to_have_count(1)  # one stop in the Tab order
    assert tabs.count() == 4
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")  # out of the tab list, not to the next tab
    assert page.evaluate("() => document.activeElement.getAttribute('role')") != "tab"


def test_a_viewer_does_everything_from_the_keyboard(start_live: Callable[..., LiveServer], browser: Browser) -> None:
    server = start_live()
    moderator = moderator_api(server)
    moderator.ok("main", {"type": "set_moderation", "mode": "post"})
    for text in ("Someone else's question", "Answered one"):
        moderator.ok("main", {"type": "ask_question", "text": text})
    questions = moderator.http.get("/api/rooms/main?as=moderator").json()["live"]["questions"]
    answered = next(q["id"] for q in questions if q["text"] == "Answered one")
    moderator.ok("main", {"type": "moderate_question", "question_id": answered, "action": "mark_answered"})
    open_poll(moderator, "Keyboard or mouse?", ["Keyboard", "Mouse"])
    watch = Watch()
    page = watch.page(browser, server, viewport=PHONE)
    page.goto("/r/main")
    expect(page.locator("#live-status")).to_have_text("Live")

    # vote in the poll: Tab to the choices, arrows to pick, Tab to Vote, Enter
    tab_to(page, page.locator("#poll").get_by_label("Keyboard"))
    page.keyboard.press("Space")
    expect(page.locator("#poll").get_by_label("Keyboard")).to_be_checked()
    tab_to(page, page.locator("#poll").get_by_role("button", name="Vote", exact=True))
    page.keyboard.press("Enter")
    expect(page.locator("#poll")).to_contain_text("Your vote was counted.")
    # ask, with a name, and send with Enter on the button
    tab_to(page, page.get_by_label("Your question"))
    page.keyboard.type("Asked from the keyboard?")
    tab_to(page, page.get_by_label("Your name"))
    page.keyboard.type("Kim")
    tab_to(page, page.get_by_role("button", name="Send"))
    page.keyboard.press("Enter")
    expect(page.locator("#ask-feedback")).to_have_text("Your question was sent.")
    # sort, upvote, open the answered ones
    tab_to(page, page.get_by_role("button", name="Recent"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Recent")).to_have_attribute("aria-pressed", "true")
    upvote = page.get_by_role("button", name=re.compile("Upvote: Someone else's question"))
    tab_to(page, upvote)
    page.keyboard.press("Space")
    expect(upvote).to_have_attribute("aria-pressed", "true")
    summary = page.locator("#answered-section summary")
    tab_to(page, summary)
    page.keyboard.press("Enter")
    expect(page.locator("#answered-section")).to_have_attribute("open", "")
    expect(page.locator("#answered-list")).to_contain_text("Answered one")
    # the language, and back to the top
    tab_to(page, page.get_by_role("link", name="中文"), back=True)
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert watch.errors == [], f"script errors: {watch.errors}"
