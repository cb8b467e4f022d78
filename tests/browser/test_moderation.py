"""Moderating at scale in a real browser: two moderators on one room, bulk approval, merging
near-duplicates, moving a question to another room, exporting, and the admin's cross-room page.

Runs against a real ``live serve`` with the summit's event file, whose word filter holds "spam".
Screenshots land in test-output/.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.browser.test_pages import PHONE, SHOTS, Watch, browser, log_in  # noqa: F401 (browser is a fixture)
from tests.conftest import ADMIN_KEY, MODERATOR_KEY, LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
Page = sync_api.Page
expect = sync_api.expect

PHONE_OPTIONS = {"viewport": PHONE, "is_mobile": True, "has_touch": True}
DESK = {"viewport": {"width": 1280, "height": 900}}
TRUCKS = "How will hydrogen trucks scale?"
TRUCKS_UP = "How will hydrogen trucks scale up?"
BATTERY = "What is the battery recycling plan?"
HELD = "Is the carbon credit market just spam?"
INDUSTRY_CHAIN = "Sub-forum: Carbon Reduction Across the Whole Industry Chain"


@pytest.fixture
def server(start_live: Callable[..., LiveServer]) -> LiveServer:
    return start_live()


def ask(page: Page, name: str, text: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Your question").fill(text)
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#ask-feedback")).to_have_text("Your question was sent.")


def viewer(watch: Watch, browser: Browser, server: LiveServer, room: str = "main") -> Page:  # noqa: F811
    page = watch.page(browser, server, **PHONE_OPTIONS)
    page.goto(f"/r/{room}")
    expect(page.locator("#live-status")).to_have_text("Live")
    return page


def console(watch: Watch, browser: Browser, server: LiveServer, room: str = "main") -> Page:  # noqa: F811
    page = watch.page(browser, server, **DESK)
    log_in(page, MODERATOR_KEY, f"/r/{room}/moderate")
    expect(page.locator("#live-status")).to_have_text("Live")
    return page


def card(page: Page, text: str) -> sync_api.Locator:
    return page.locator(".mod-question", has=page.locator(".q-text", has_text=re.compile("^" + re.escape(text) + "$")))


def test_two_moderators_approve_merge_move_and_export(server: LiveServer, browser: Browser) -> None:  # noqa: F811
    watch = Watch()

    # Four viewers ask; the last question trips the word filter.
    alice, bob, carol, dave = (viewer(watch, browser, server) for _ in range(4))
    ask(alice, "Alice", TRUCKS)
    ask(bob, "Bob", TRUCKS_UP)
    ask(carol, "Carol", BATTERY)
    ask(dave, "Dave", HELD)

    # Two moderators on the same room.
    first = console(watch, browser, server)
    second = console(watch, browser, server)
    for page in (first, second):
        expect(page.locator('[data-count="pending"]')).to_have_text("4")

    # The held question says why; the near-duplicate points at the earlier one.
    expect(card(first, HELD).locator(".badge-filter")).to_have_text("⚠ Held by word filter")
    hint = card(first, TRUCKS_UP).locator(".q-duplicate")
    expect(hint).to_contain_text("Possible duplicate of: " + TRUCKS)
    expect(hint.get_by_role("button", name="Merge into it")).to_be_visible()
    expect(card(first, TRUCKS).locator(".q-duplicate")).to_have_count(0)

    # Select all, leave the held one out, approve the rest in one go (after confirming).
    first.get_by_label("Select all").check()
    expect(first.locator("#selected-count")).to_have_text("4 selected")
    card(first, HELD).locator(".q-check").uncheck()
    expect(first.locator("#selected-count")).to_have_text("3 selected")
    first.screenshot(path=SHOTS / "moderator-bulk.png", full_page=True)
    first.get_by_role("button", name="Approve selected").click()
    first.get_by_role("dialog", name="Approve 3 selected questions?").get_by_role("button", name="Approve").click()
    for page in (first, second):  # the second console follows the first
        expect(page.locator('[data-count="live"]')).to_have_text("3")
        expect(page.locator('[data-count="pending"]')).to_have_text("1")
    for text in (TRUCKS, TRUCKS_UP, BATTERY):
        expect(dave.locator(".question .q-text", has_text=re.compile("^" + re.escape(text) + "$"))).to_be_visible()
    expect(dave.locator(".question", has_text=HELD)).to_contain_text("Awaiting moderation")

    # ...and the first follows the second: a highlight there shows here.
    second.get_by_role("tab", name=re.compile("Live")).click()
    card(second, TRUCKS).get_by_role("button", name="Highlight").click()
    expect(first.locator("#mod-answering-text")).to_have_text(TRUCKS)
    expect(carol.locator("#answering-text")).to_have_text(TRUCKS)

    # One vote on each truck question, then the duplicate is merged in one click.
    for page, text in ((bob, TRUCKS), (carol, TRUCKS_UP)):
        question = page.locator(
            ".question", has=page.locator(".q-text", has_text=re.compile("^" + re.escape(text) + "$"))
        )
        question.locator(".vote-button").click()
        expect(question.locator(".vote-count")).to_have_text("1")
    first.get_by_role("tab", name=re.compile("Live")).click()
    expect(card(first, TRUCKS_UP).locator(".q-votes")).to_have_text("▲ 1")
    card(first, TRUCKS_UP).get_by_role("button", name="Merge into it").click()
    first.get_by_role("dialog", name=f"Merge this question into “{TRUCKS}”?").get_by_role(
        "button", name="Merge"
    ).click()
    trucks = dave.locator(".question", has_text="hydrogen trucks")
    expect(trucks).to_have_count(1)
    expect(trucks.locator(".q-text")).to_have_text(TRUCKS)
    expect(trucks.locator(".vote-count")).to_have_text("2")
    expect(trucks.locator(".q-also-asked")).to_have_text("+1 also asked")
    for page in (first, second):
        expect(card(page, TRUCKS).locator(".q-also")).to_have_text("Also asked by 1 (Bob)")
        expect(card(page, TRUCKS).locator(".q-votes")).to_have_text("▲ 2")

    # Labels, as chips, on both consoles.
    card(first, TRUCKS).get_by_role("button", name="Labels").click()
    first.get_by_label("Labels").fill("hydrogen, logistics")
    first.get_by_role("button", name="Save").click()
    for page in (first, second):
        expect(card(page, TRUCKS).locator(".chip")).to_have_text(["hydrogen", "logistics"])

    # The battery question belongs to the industry-chain forum: move it there.
    chain = console(watch, browser, server, room="industry-chain")
    card(first, BATTERY).get_by_label("Move to…").select_option(label=INDUSTRY_CHAIN)
    first.get_by_role("dialog", name=f"Move this question to {INDUSTRY_CHAIN}?").get_by_role(
        "button", name="Move"
    ).click()
    expect(dave.locator(".question", has_text=BATTERY)).to_have_count(0)
    chain.get_by_role("tab", name=re.compile("Live")).click()
    expect(card(chain, BATTERY)).to_contain_text("Carol")
    first.screenshot(path=SHOTS / "moderator-live.png", full_page=True)

    # Merged and moved questions are kept in Archived, each with its status.
    first.get_by_role("tab", name=re.compile("Archived")).click()
    expect(first.locator('[data-count="archived"]')).to_have_text("2")
    expect(card(first, TRUCKS_UP).locator(".badge-merged")).to_have_text("Merged")
    expect(card(first, TRUCKS_UP)).to_contain_text("Merged into: " + TRUCKS)
    expect(card(first, BATTERY).locator(".badge-moved")).to_have_text("Moved")
    expect(card(first, BATTERY)).to_contain_text("Moved to: " + INDUSTRY_CHAIN)
    first.screenshot(path=SHOTS / "moderator-archived.png", full_page=True)
    dave.screenshot(path=SHOTS / "viewer-phone-merged.png", full_page=True)

    # The room's questions download as CSV.
    with first.expect_download() as download:
        first.get_by_role("link", name="CSV").first.click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert download.value.suggested_filename == "main-questions.csv"
    assert TRUCKS in exported and TRUCKS_UP in exported and HELD in exported

    # The console in Chinese: the new controls are translated too.
    first.goto("/r/main/moderate?lang=zh-CN")
    expect(first.locator("#live-status")).to_have_text("实时")
    expect(card(first, HELD).locator(".badge-filter")).to_have_text("⚠ 被敏感词过滤拦截")
    expect(first.get_by_role("tab", name=re.compile("已归档"))).to_be_visible()
    first.get_by_role("tab", name=re.compile("实时")).click()
    expect(card(first, TRUCKS).locator(".q-also")).to_have_text("另有 1 人提出同样问题 (Bob)")
    first.screenshot(path=SHOTS / "moderator-zh.png", full_page=True)

    assert watch.dialogs == [], f"unexpected dialogs: {watch.dialogs}"
    assert watch.errors == [], f"script errors: {watch.errors}"


def test_admin_moderates_every_room_from_one_page(server: LiveServer, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    asker = viewer(watch, browser, server, room="industry-chain")
    ask(asker, "Erin", "When will charging be as fast as refuelling?")
    held = viewer(watch, browser, server)
    ask(held, "Frank", HELD)
    audience = viewer(watch, browser, server, room="industry-chain")
    expect(audience.locator("#no-questions")).to_be_visible()

    admin = watch.page(browser, server, **DESK)
    log_in(admin, ADMIN_KEY, "/admin")
    group = admin.locator('.admin-group[data-room="industry-chain"]')
    expect(group).to_contain_text("When will charging be as fast as refuelling?")
    expect(group).to_contain_text("Erin")
    expect(admin.locator('.admin-group[data-room="main"] .badge-filter')).to_have_text("⚠ Held by word filter")
    row = admin.locator('tr[data-room="industry-chain"]')
    expect(row.locator('[data-field="pending"]')).to_have_text("1")
    expect(row.locator('[data-field="video"]')).to_have_text(
        "Offline"
    )  # the video field: no stream in this room (docs/VIDEO.md)
    expect(admin.locator("#admin-note")).to_contain_text("Updated live")
    admin.screenshot(path=SHOTS / "admin.png", full_page=True)

    group.get_by_role("button", name="Approve").click()
    question = audience.locator(".question", has_text="When will charging be as fast as refuelling?")
    expect(question).to_be_visible()
    expect(question).not_to_contain_text("Awaiting moderation")
    expect(group).to_have_count(0)
    expect(row.locator('[data-field="pending"]')).to_have_text("0")

    # A new question elsewhere shows up without a reload.
    ask(asker, "Erin", "Which battery chemistries are easiest to recycle?")
    expect(group).to_contain_text("Which battery chemistries are easiest to recycle?")

    assert watch.dialogs == [], f"unexpected dialogs: {watch.dialogs}"
    assert watch.errors == [], f"script errors: {watch.errors}"
