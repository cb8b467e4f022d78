"""A quiz as a series in a real browser: a moderator runs two quiz questions from the console;
viewers on phones are asked for a name when the quiz opens (or play anonymously), answer by
clicking, and after each reveal the venue screen shows the series' leaderboard (names wrapping,
two anonymous players told apart) while each phone shows its own place. A name saved later
follows the player onto the leaderboard."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.browser.test_pages import SHOTS, Watch, browser  # noqa: F401 (browser is a fixture)
from tests.browser.test_polls_screen import console, create_poll, screen, viewer
from tests.conftest import LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
Page = sync_api.Page
Locator = sync_api.Locator
expect = sync_api.expect

LONG_NAME = "Alexandra Konstantinopoulou-Wang 王思思"


@pytest.fixture
def server(start_live: Callable[..., LiveServer]) -> LiveServer:
    return start_live()


def answer(page: Page, option: str) -> None:
    page.locator("#poll").get_by_label(option, exact=True).check()
    page.locator("#poll").get_by_role("button", name="Vote", exact=True).click()
    expect(page.locator("#poll")).to_contain_text("Your vote was counted.")


def reveal(moderator: Page, question: str) -> None:
    poll = moderator.locator(".poll-item", has_text=question)
    poll.get_by_role("button", name="Close").click()
    poll.get_by_role("button", name="Reveal results").click()


def own_place(page: Page) -> Locator:
    return page.locator("#poll .quiz-own-rank")


def test_a_quiz_series_ranks_named_players_and_each_sees_their_place(server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    watch = Watch()
    moderator = console(watch, browser, server)
    hall = screen(watch, browser, server)
    alice, bob, carol = (viewer(watch, browser, server) for _ in range(3))

    first = "Q1: cleanest? 哪个最清洁？"
    create_poll(moderator, first, "quiz", "Coal\nWind", "on_reveal", correct="Wind")
    # Joining the quiz without a name: asked for one first.
    for page in (alice, bob, carol):
        expect(page.get_by_label("Name for the quiz leaderboard")).to_be_visible()
    alice.screenshot(path=SHOTS / "viewer-quiz-name-prompt.png", full_page=True)
    alice.get_by_label("Name for the quiz leaderboard").fill(LONG_NAME)
    alice.get_by_role("button", name="Save name").click()
    expect(alice.locator("#ask-name")).to_have_value(LONG_NAME)  # the page's one name, for questions too
    bob.get_by_role("button", name="Play anonymously").click()
    carol.get_by_role("button", name="Play anonymously").click()
    answer(alice, "Wind")
    answer(bob, "Wind")
    answer(carol, "Coal")
    reveal(moderator, first)

    board = hall.locator(".quiz-standings")
    expect(board.locator(".leader")).to_have_count(3)
    expect(board.locator(".leaderboard-title")).to_contain_text("竞答排行榜")
    names = board.locator(".leader-name")
    expect(names.filter(has_text=LONG_NAME)).to_have_count(1)
    anonymous = [n for n in names.all_text_contents() if n.startswith("匿名")]
    assert len(anonymous) == 2 and anonymous[0] != anonymous[1], anonymous  # told apart by their tags
    assert all(re.fullmatch(r"匿名 #[0-9a-f]{4}", n) for n in anonymous), anonymous
    # Carol was wrong; a bilingual screen shows the number alone, one line a player
    expect(board.locator(".leader").last.locator(".leader-points")).to_have_text("0")
    # the long name is whole on the screen, not cut
    whole = hall.evaluate(
        "() => [...document.querySelectorAll('.quiz-standings .leader-name')].every("
        "n => n.scrollWidth <= n.clientWidth + 1 && getComputedStyle(n).textOverflow !== 'ellipsis')"
    )
    assert whole, "a name on the screen's leaderboard is cut"
    expect(own_place(carol)).to_have_text(re.compile(r"Your place: 3 of 3 · 0 points"))
    expect(own_place(alice)).to_have_text(re.compile(r"Your place: [12] of 3 · \d+ points"))
    expect(own_place(bob)).to_have_text(re.compile(r"Your place: [12] of 3"))
    expect(alice.locator("#poll .quiz-standings .leader")).to_have_count(3)

    # Bob saves a name in the page's name field; his next answer carries it to the leaderboard.
    with bob.expect_response(re.compile(r"/api/me$")):
        bob.locator("#ask-name").fill("Bob 王")
        bob.locator("#ask-name").press("Tab")
    second = "Q2: by when? 何时？"
    create_poll(moderator, second, "quiz", "2060\n2100", "on_reveal", correct="2060")
    expect(alice.locator("#poll .poll-question")).to_have_text(second)
    expect(alice.get_by_label("Name for the quiz leaderboard")).to_have_count(0)  # she has one now
    answer(alice, "2060")
    answer(bob, "2100")
    answer(carol, "2100")
    reveal(moderator, second)

    # Alice: two right answers; Bob: one; Carol: none.
    expect(board.locator(".leader-name")).to_have_text([LONG_NAME, "Bob 王", re.compile(r"^匿名 #")])
    expect(board.locator(".leader").first.locator(".leader-rank")).to_have_text("1.")
    expect(own_place(alice)).to_have_text(re.compile(r"Your place: 1 of 3"))
    expect(own_place(bob)).to_have_text(re.compile(r"Your place: 2 of 3"))
    expect(own_place(carol)).to_have_text(re.compile(r"Your place: 3 of 3"))
    expect(moderator.locator(".poll-item", has_text=second).locator(".quiz-standings .leader")).to_have_count(3)
    hall.screenshot(path=SHOTS / "screen-quiz-series.png")
    bob.screenshot(path=SHOTS / "viewer-quiz-series-en.png", full_page=True)

    # A page opened afresh knows its place from the snapshot (and in Chinese).
    bob.goto("/r/main?lang=zh-CN")
    expect(own_place(bob)).to_have_text(re.compile(r"你的名次：第 2 名（共 3 人）"))
    bob.screenshot(path=SHOTS / "viewer-quiz-series-zh.png", full_page=True)
    assert watch.errors == [] and watch.dialogs == []


def test_a_quiz_revealed_while_open_offers_no_more_answers(server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """The server refuses answers once a quiz's answer is out (anyone could copy it and score):
    a phone that has not answered stops offering the form and says why, instead of a Vote button
    that can only be refused; one that answered keeps its answer and no "Change my vote"."""
    watch = Watch()
    moderator = console(watch, browser, server)
    late, early = viewer(watch, browser, server), viewer(watch, browser, server)
    question = "Q: fastest to charge? 哪个充电最快？"
    poll = create_poll(moderator, question, "quiz", "Solid-state\nLead-acid", "on_reveal", correct="Solid-state")
    for page in (late, early):
        page.get_by_role("button", name="Play anonymously").click()
    answer(early, "Solid-state")
    expect(late.locator("#poll").get_by_role("button", name="Vote", exact=True)).to_be_visible()
    poll.get_by_role("button", name="Reveal results").click()  # still open
    for page in (late, early):
        expect(page.locator("#poll")).to_contain_text("the answer is out: this quiz takes no more answers")
        expect(page.locator("#poll").get_by_role("button", name="Vote", exact=True)).to_have_count(0)
        expect(page.locator("#poll").get_by_role("button", name="Change my vote")).to_have_count(0)
    assert watch.errors == [], f"script errors: {watch.errors}"
