"""The moderator console, the viewer page and the admin page as a UX review found them: focus kept
across live updates, multiple-choice shares of voters, phone and 1024 px layouts, quiz ranks, and
no "Unmute" without video.

Runs against a real ``live serve`` (embedded engine); the room is driven through the JSON API as
other people would. Screenshots land in test-output/.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.browser.test_pages import PHONE, SHOTS, Watch, browser, log_in  # noqa: F401 (browser is a fixture)
from tests.conftest import ADMIN_KEY, MODERATOR_KEY, LiveServer
from tests.livetools import Person

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
Page = sync_api.Page
expect = sync_api.expect

WIDE = {"viewport": {"width": 1440, "height": 900}}
PHONE_OPTIONS = {"viewport": PHONE, "is_mobile": True, "has_touch": True}


@pytest.fixture
def server(start_live: Callable[..., LiveServer]) -> LiveServer:
    return start_live()


@pytest.fixture
def moderator(server: LiveServer) -> Person:
    person = Person(server)
    person.login(MODERATOR_KEY)
    return person


def live_question(server: LiveServer, moderator: Person, text: str) -> str:
    """A viewer asks, a moderator approves: the question's id."""
    asked = Person(server).ok("main", {"type": "ask_question", "text": text})
    question_id: str = asked["question"]["id"]
    moderator.ok("main", {"type": "moderate_question", "question_id": question_id, "action": "approve"})
    return question_id


def upvote(server: LiveServer, question_id: str) -> None:
    Person(server).ok("main", {"type": "upvote", "question_id": question_id})


def console(watch: Watch, browser: Browser, server: LiveServer, **options: object) -> Page:  # noqa: F811
    page = watch.page(browser, server, **(options or WIDE))
    log_in(page, MODERATOR_KEY, "/r/main/moderate")
    expect(page.locator("#live-status")).to_have_text("Live")
    return page


def card(page: Page, question_id: str) -> sync_api.Locator:
    return page.locator(f'.mod-question[data-id="{question_id}"]')


FOCUSED = """() => {
  const node = document.activeElement;
  const item = node && node.closest('.mod-question, .poll-item');
  return {tag: node.tagName, action: node.dataset.action || null, id: item ? item.dataset.id : null,
          same: node.dataset.marked === 'yes', value: 'value' in node ? node.value : null};
}"""


def test_focus_survives_live_updates(server: LiveServer, moderator: Person, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    first = live_question(server, moderator, "How fast can charging networks grow in rural areas?")
    second = live_question(server, moderator, "Which battery chemistry wins for heavy trucks?")
    page = console(watch, browser, server)
    page.get_by_role("tab", name=re.compile("Live")).click()
    expect(page.locator(".mod-question")).to_have_count(2)

    # Star focused on one card; viewers upvote the other one past it, then this one.
    star = card(page, first).locator('[data-action="star"]')
    star.focus()
    for votes in (1, 2):
        upvote(server, second)
        expect(card(page, second).locator(".q-votes")).to_have_text(f"▲ {votes}")
        focused = page.evaluate(FOCUSED)
        assert (focused["tag"], focused["action"], focused["id"]) == ("BUTTON", "star", first)
    upvote(server, first)
    expect(card(page, first).locator(".q-votes")).to_have_text("▲ 1")
    focused = page.evaluate(FOCUSED)
    assert (focused["tag"], focused["action"], focused["id"]) == ("BUTTON", "star", first)
    page.keyboard.press("Enter")  # the restored focus is the real button: it stars the question
    expect(card(page, first)).to_have_class(re.compile(r"\bstarred\b"))

    # The "Move to…" list: the very same element keeps focus while its card's votes change.
    move = card(page, second).locator("select.move-select")
    move.focus()
    move.evaluate("node => { node.dataset.marked = 'yes'; }")
    upvote(server, second)
    expect(card(page, second).locator(".q-votes")).to_have_text("▲ 3")
    upvote(server, first)
    expect(card(page, first).locator(".q-votes")).to_have_text("▲ 2")
    focused = page.evaluate(FOCUSED)
    assert (focused["tag"], focused["id"], focused["same"]) == ("SELECT", second, True)

    # Text typed in an open Reply box survives, focused.
    page.locator("body").click(position={"x": 5, "y": 5})
    card(page, first).locator('[data-action="reply"]').click()
    reply = card(page, first).get_by_role("textbox", name="Reply")
    reply.fill("We will publish the map after the session")
    upvote(server, first)
    expect(card(page, first).locator(".q-votes")).to_have_text("▲ 3")
    expect(card(page, first).get_by_role("textbox", name="Reply")).to_have_value(
        "We will publish the map after the session"
    )
    assert page.evaluate(FOCUSED)["tag"] == "TEXTAREA"

    # A poll's button keeps focus too while questions are upvoted.
    poll_id = moderator.ok(
        "main",
        {"type": "create_poll", "kind": "single_choice", "question": "Tea or coffee?", "options": ["Tea", "Coffee"]},
    )["poll_id"]
    open_button = page.locator(f'.poll-item[data-id="{poll_id}"]').get_by_role("button", name="Open")
    open_button.focus()
    upvote(server, second)
    expect(card(page, second).locator(".q-votes")).to_have_text("▲ 4")
    focused = page.evaluate(FOCUSED)
    assert (focused["tag"], focused["id"]) == ("BUTTON", poll_id)
    page.screenshot(path=SHOTS / "console-focus-kept.png")
    assert watch.errors == [] and watch.dialogs == []


def test_multiple_choice_shares_are_of_voters(server: LiveServer, moderator: Person, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    options = ["Batteries", "Hydrogen", "Grid"]
    poll_id = moderator.ok(
        "main", {"type": "create_poll", "kind": "multiple_choice", "question": "Which matter most?", "options": options}
    )["poll_id"]
    moderator.ok("main", {"type": "change_poll", "poll_id": poll_id, "action": "open"})
    viewer = watch.page(browser, server, **PHONE_OPTIONS)
    viewer.goto("/r/main")
    expect(viewer.locator("#live-status")).to_have_text("Live")
    page = console(watch, browser, server)

    ballots = [
        ["Batteries", "Hydrogen"],
        ["Batteries"],
        ["Batteries", "Grid"],
        ["Hydrogen"],
        ["Batteries", "Hydrogen", "Grid"],
    ]
    for choices in ballots:
        Person(server).ok("main", {"type": "vote_poll", "poll_id": poll_id, "choices": choices})
    counts = {option: sum(option in b for b in ballots) for option in options}  # 4, 3, 2 of 5 voters (9 ticks)
    item = page.locator(f'.poll-item[data-id="{poll_id}"]')
    expect(item).to_contain_text("5 ballots")
    for where in (item, viewer.locator("#poll")):
        for option, count in counts.items():
            share = round(100 * count / len(ballots))
            expect(where.locator(f'.tally-row[data-option="{option}"] .tally-value')).to_have_text(
                f"{count} · {share}%"
            )
    viewer.screenshot(path=SHOTS / "viewer-multiple-choice.png", full_page=True)
    assert watch.errors == [] and watch.dialogs == []


@pytest.mark.parametrize("width", [390, 320])
def test_console_fits_a_phone(server: LiveServer, moderator: Person, browser: Browser, width: int) -> None:  # noqa: F811
    watch = Watch()
    live_question(server, moderator, "Will the grid cope with millions of electric cars charging at night?")
    page = console(watch, browser, server, viewport={"width": width, "height": 844}, is_mobile=True, has_touch=True)
    page.get_by_role("tab", name=re.compile("Live")).click()
    expect(page.locator(".mod-question")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for node in page.locator('[role="tab"], [data-scene], .mod-question [data-action]').all():
        box = node.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, node.text_content()
    expect(page.locator(".shortcuts")).to_be_hidden()  # no keyboard on a phone
    page.screenshot(path=SHOTS / f"console-phone-{width}.png", full_page=True)
    assert watch.errors == []


def test_admin_fits_1024(server: LiveServer, moderator: Person, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    question = live_question(
        server, moderator, "What will the carbon price be in 2030, and who pays for the transition of the supply chain?"
    )
    moderator.ok("main", {"type": "highlight_question", "question_id": question})
    page = watch.page(browser, server, viewport={"width": 1024, "height": 768})
    log_in(page, ADMIN_KEY, "/admin")
    expect(page.locator('#admin-rows tr[data-room="main"] [data-field="answering"]')).to_contain_text("carbon price")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    wrap = page.locator(".table-wrap")
    assert wrap.evaluate("node => node.scrollWidth <= node.clientWidth")
    view = page.locator('#admin-rows tr[data-room="main"] .links').get_by_role("link", name="View")
    box = view.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1024
    page.screenshot(path=SHOTS / "admin-1024.png", full_page=True)
    assert watch.errors == []


def test_quiz_leaderboard_has_ranks(server: LiveServer, moderator: Person, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    poll_id = moderator.ok("main", {"type": "create_poll", "kind": "quiz", "question": "Carbon neutral by?", "options": ["2050", "2060"],
                                    "correct": ["2060"], "visibility": "on_reveal"})["poll_id"]  # fmt: skip
    moderator.ok("main", {"type": "change_poll", "poll_id": poll_id, "action": "open"})
    for _ in range(3):
        Person(server).ok("main", {"type": "vote_poll", "poll_id": poll_id, "choices": ["2060"]})
    Person(server).ok("main", {"type": "vote_poll", "poll_id": poll_id, "choices": ["2050"]})
    moderator.ok("main", {"type": "change_poll", "poll_id": poll_id, "action": "reveal"})
    viewer = watch.page(browser, server, **PHONE_OPTIONS)
    viewer.goto("/r/main")
    page = console(watch, browser, server)
    fastest = ".leaderboard:not(.quiz-standings)"  # beside the series' leaderboard (test_quiz_series.py)
    for board in (page.locator(f'.poll-item[data-id="{poll_id}"] {fastest}'), viewer.locator(f"#poll {fastest}")):
        expect(board.locator(".leader")).to_have_count(3)
        expect(board.locator(".leader-rank")).to_have_text(["1.", "2.", "3."])
        expect(board.locator(".leader").first).to_have_text(re.compile(r"^1\.\s*Anonymous"))
    viewer.locator("#poll").screenshot(path=SHOTS / "viewer-quiz-ranks.png")
    assert watch.errors == []


def test_unmute_hidden_while_offline(server: LiveServer, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    viewer = watch.page(browser, server, **PHONE_OPTIONS)
    viewer.goto("/r/main")
    expect(viewer.locator("#live-status")).to_have_text("Live")
    expect(viewer.locator("#video-offline")).to_be_visible()
    expect(viewer.locator("#video-status")).to_have_text("Offline")
    expect(viewer.locator("#video-unmute")).to_be_hidden()
    viewer.locator("#video").screenshot(path=SHOTS / "viewer-video-offline.png")
    assert watch.errors == []


def test_a_refused_label_says_what_to_change(server: LiveServer, moderator: Person, browser: Browser) -> None:  # noqa: F811
    """The page's own words, plus the server's detail: which field, which limit."""
    watch = Watch()
    question_id = live_question(server, moderator, "Who pays for hydrogen refuelling stations?")
    page = console(watch, browser, server)
    page.get_by_role("tab", name=re.compile("Live")).click()
    card(page, question_id).get_by_role("button", name="Labels").click()
    page.get_by_label("Labels").fill("infrastructure, a label far longer than thirty characters")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".notice-error")).to_contain_text("longer than 30 characters")
    page.screenshot(path=str(SHOTS / "console-label-refused.png"))
    assert watch.errors == [] and watch.dialogs == []


@pytest.mark.parametrize(("language", "expected"), [("en", r"try again in \d+ s"), ("zh-CN", r"请 \d+ 秒后再试")])
def test_a_rate_limited_viewer_is_told_how_long_to_wait(
    server: LiveServer,
    browser: Browser,  # noqa: F811
    language: str,
    expected: str,
) -> None:
    watch = Watch()
    page = watch.page(browser, server, **PHONE_OPTIONS)
    page.goto(f"/r/main?lang={language}")
    expect(page.locator("#live-status")).to_be_visible()
    box = page.locator("#ask-text")
    for n in range(4):  # three questions a minute; the fourth is refused
        box.fill(f"Question number {n} about charging networks")
        page.locator("#ask-submit").click()
        if n < 3:
            expect(box).to_have_value("")
    expect(page.locator("#ask-feedback")).to_have_text(re.compile(expected))
    page.screenshot(path=str(SHOTS / f"viewer-rate-limited-{language}.png"))
    assert watch.errors == [] and watch.dialogs == []
