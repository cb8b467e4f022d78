"""The pages in a real browser, as people use them: viewers on phones, a moderator, the venue screen.

Runs Debian's chromium through Playwright against a real ``live serve`` (embedded engine).
Screenshots land in test-output/ for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from tests.browser.chromium import SHOTS, launch
from tests.conftest import MODERATOR_KEY, SCREEN_KEY, LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
Page = sync_api.Page
expect = sync_api.expect

PHONE = {"width": 390, "height": 844}
QUESTION = "<script>alert(1)</script> 汽车行业何时实现碳中和？ When will cars be carbon neutral? 🚗"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch() as browser:
        yield browser


class Watch:
    """Collects what must never happen on a page: a script dialog (injected HTML ran) or a JS error."""

    def __init__(self, confirms: tuple[str, ...] = ()) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.confirms = confirms  # patterns of the console's own confirm() questions, accepted as a person would
        self.confirmed: list[str] = []

    def page(self, browser: Browser, server: LiveServer, **options: object) -> Page:
        context = browser.new_context(base_url=server.url, locale="en-US", **options)  # type: ignore[arg-type]
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page

    def _dialog(self, dialog: sync_api.Dialog) -> None:
        if dialog.type == "confirm" and any(re.fullmatch(pattern, dialog.message) for pattern in self.confirms):
            self.confirmed.append(dialog.message)
            dialog.accept()
            return
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


def log_in(page: Page, key: str, target: str) -> None:
    page.goto(f"/login?next={target}")
    page.get_by_label("Access key").fill(key)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


def test_question_from_viewer_to_screen(start_live: Callable[..., LiveServer], browser: Browser) -> None:
    server = start_live()
    watch = Watch()
    phone = {"viewport": PHONE, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}

    # Viewer A asks, with a name, and sees the question waiting for a moderator.
    alice = watch.page(browser, server, **phone)
    alice.goto("/r/main")
    expect(alice.locator("#live-status")).to_have_text("Live")
    alice.get_by_label("Your name").fill("Alice 李")
    alice.get_by_label("Your question").fill(QUESTION)
    alice.get_by_role("button", name="Send").click()
    expect(alice.locator("#ask-feedback")).to_have_text("Your question was sent.")
    mine = alice.locator(".question", has_text="汽车行业何时实现碳中和")
    expect(mine).to_contain_text("Awaiting moderation")
    expect(mine.locator(".q-text")).to_have_text(QUESTION)

    # Viewer B is on the page before it is approved, and must not see it yet.
    bob = watch.page(browser, server, **phone)
    bob.goto("/r/main")
    expect(bob.locator("#live-status")).to_have_text("Live")
    expect(bob.locator("#no-questions")).to_be_visible()

    # The moderator logs in, sees it arrive in Pending and approves it.
    moderator = watch.page(browser, server, viewport={"width": 1280, "height": 900})
    log_in(moderator, MODERATOR_KEY, "/r/main/moderate")
    expect(moderator.locator("#live-status")).to_have_text("Live")
    card = moderator.locator(".mod-question", has_text="汽车行业何时实现碳中和")
    expect(card.locator(".q-text")).to_have_text(QUESTION)
    expect(card).to_contain_text("Alice 李")
    expect(moderator.locator('[data-count="pending"]')).to_have_text("1")
    card.get_by_role("button", name="Approve").click()
    expect(moderator.locator('[data-count="live"]')).to_have_text("1")
    expect(moderator.locator('[data-count="pending"]')).to_have_text("0")

    # B sees it appear live, as literal text, and upvotes; A sees the count.
    theirs = bob.locator(".question", has_text="汽车行业何时实现碳中和")
    expect(theirs.locator(".q-text")).to_have_text(QUESTION)
    expect(theirs).to_contain_text("Alice 李")
    expect(mine).not_to_contain_text("Awaiting moderation")
    theirs.locator(".vote-button").click()
    expect(theirs.locator(".vote-button")).to_have_attribute("aria-pressed", "true")
    expect(mine.locator(".vote-count")).to_have_text("1")
    expect(mine.locator(".vote-button")).to_have_attribute("aria-pressed", "false")

    # The moderator highlights it: both viewers show "now answering".
    moderator.get_by_role("tab", name=re.compile("Live")).click()
    card.get_by_role("button", name="Highlight").click()
    for viewer in (alice, bob):
        expect(viewer.locator("#answering")).to_be_visible()
        expect(viewer.locator("#answering-text")).to_have_text(QUESTION)
    expect(moderator.locator("#mod-answering-text")).to_have_text(QUESTION)
    alice.screenshot(path=SHOTS / "viewer-phone.png", full_page=True)

    # The venue screen shows it large.
    screen = watch.page(browser, server, viewport={"width": 1920, "height": 1080})
    log_in(screen, SCREEN_KEY, "/r/main/screen")
    expect(screen.locator("#screen-question-text")).to_have_text(QUESTION)
    expect(screen.locator("#screen-question-votes")).to_have_text("▲ 1")
    screen.screenshot(path=SHOTS / "screen-question.png")

    # A poll: created and opened by the moderator, voted on by B, drawn as bars on the screen.
    moderator.locator("#poll-create summary").click()
    moderator.get_by_label("Question", exact=True).fill("Which matters most for carbon neutrality? 哪个最重要？")
    moderator.get_by_label("Options, one per line").fill("Batteries 电池\nHydrogen 氢能\nGrid 电网")
    moderator.get_by_role("button", name="Create poll").click()
    poll = moderator.locator(".poll-item", has_text="Which matters most")
    poll.get_by_role("button", name="Open").click()
    expect(poll).to_contain_text("Shown to viewers")
    bob.get_by_label("Hydrogen 氢能").check()
    bob.get_by_role("button", name="Vote", exact=True).click()
    expect(bob.locator("#poll")).to_contain_text("Your vote was counted.")
    expect(poll).to_contain_text(re.compile(r"(?<!\d)1 ballot(?!s)"))  # the catalogue's singular, not "1 ballots"

    # Marked answered: the banners go away and it moves to the answered list.
    card.get_by_role("button", name="Mark answered").click()
    for viewer in (alice, bob):
        expect(viewer.locator("#answering")).to_be_hidden()
        expect(viewer.locator("#answered-list .q-text")).to_have_text(QUESTION)
    expect(moderator.locator('[data-count="answered"]')).to_have_text("1")
    expect(screen.locator("#scene-poll")).to_be_visible()
    expect(screen.locator(".tally-row").nth(1)).to_contain_text("1 · 100%")
    screen.screenshot(path=SHOTS / "screen-poll.png")
    bob.screenshot(path=SHOTS / "viewer-phone-poll.png", full_page=True)
    moderator.get_by_role("tab", name=re.compile("Answered")).click()
    moderator.screenshot(path=SHOTS / "moderator.png", full_page=True)

    # With the poll deleted the screen invites people to join, with the QR code.
    poll.get_by_role("button", name="Delete").click()
    moderator.get_by_role("dialog", name="Delete this poll and its votes?").get_by_role("button", name="Delete").click()
    expect(screen.locator("#scene-join")).to_be_visible()
    expect(screen.locator(".join-qr svg")).to_be_visible()
    screen.screenshot(path=SHOTS / "screen-join.png")

    assert watch.dialogs == [], "a question's text ran as script"
    assert watch.errors == [], f"script errors: {watch.errors}"


def test_lobby_and_language_switch(start_live: Callable[..., LiveServer], browser: Browser) -> None:
    server = start_live()
    watch = Watch()
    lobby = watch.page(browser, server, viewport={"width": 1280, "height": 900})
    lobby.goto("/")
    cards = lobby.locator(".room-card")
    expect(cards.first).to_contain_text("Main Forum")
    assert cards.count() == 8
    lobby.screenshot(path=SHOTS / "lobby.png", full_page=True)

    page = watch.page(browser, server, viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/r/main")
    expect(page.get_by_role("heading", name="Ask a question")).to_be_visible()
    page.get_by_role("link", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", name="提问")).to_be_visible()
    expect(page.locator("h1")).to_have_text("主论坛")
    expect(page.locator("#live-status")).to_have_text("实时")
    page.screenshot(path=SHOTS / "viewer-phone-zh.png", full_page=True)
    page.reload()  # the choice is remembered in a cookie
    expect(page.get_by_role("heading", name="提问")).to_be_visible()
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Ask a question")).to_be_visible()

    assert watch.errors == [], f"script errors: {watch.errors}"


def test_viewer_reconnects_after_the_server_restarts(start_live: Callable[..., LiveServer], browser: Browser) -> None:
    server = start_live()
    watch = Watch()
    staff = browser.new_context(base_url=server.url).request
    assert staff.post("/login", form={"key": MODERATOR_KEY, "next": "/"}, max_redirects=0).status == 303

    def command(body: dict[str, object]) -> dict[str, object]:
        response = staff.post("/api/rooms/main/commands", data=body)
        assert response.ok, response.text()
        return response.json()  # type: ignore[no-any-return]

    viewer = watch.page(browser, server, viewport=PHONE, is_mobile=True, has_touch=True)
    viewer.goto("/r/main")
    status = viewer.locator("#live-status")
    expect(status).to_have_text("Live")
    command({"type": "set_moderation", "mode": "post"})
    viewer.get_by_label("Your question").fill("Still there after a restart?")
    viewer.get_by_role("button", name="Send").click()
    question = viewer.locator(".question", has_text="Still there after a restart?")
    expect(question).not_to_contain_text("Awaiting moderation")

    server.stop()
    expect(status).to_have_text("Reconnecting…")
    server.start()  # same port, same data
    expect(status).to_have_text("Live", timeout=20_000)

    # The stream works again: what a moderator does now reaches the page without a reload.
    question_id = question.get_attribute("data-id")
    command({"type": "highlight_question", "question_id": question_id})
    expect(viewer.locator("#answering-text")).to_have_text("Still there after a restart?")
    expect(question).to_have_count(1)
    assert watch.errors == [], f"script errors: {watch.errors}"
