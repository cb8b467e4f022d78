"""The venue screen on "Auto", as the console promises: the open poll, else the highlighted
question. A poll closed on the screen keeps its results there until the moderator highlights a
question, which then shows at once, with no switching of scenes by hand."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.test_pages import SHOTS, Watch, browser  # noqa: F401 (browser is a fixture)
from tests.browser.test_screen_fit import Room, screen
from tests.conftest import LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
expect = sync_api.expect

QUESTION = "Who pays for the chargers in old housing estates? 老旧小区的充电桩谁来出钱？"


def test_auto_shows_the_highlighted_question_once_the_poll_closed(
    start_live: Callable[..., LiveServer],
    browser: Browser,  # noqa: F811
) -> None:
    server = start_live()
    watch = Watch()
    room = Room(watch, browser, server)
    hall = screen(watch, browser, server)
    expect(hall.locator("body")).to_have_attribute("data-scene", "join")

    viewer = watch.page(browser, server)
    viewer.goto("/r/main")
    room.command(viewer.request, type="ask_question", text=QUESTION)
    questions = room.moderator.get("/api/rooms/main?as=moderator").json()["live"]["questions"]
    question_id = next(q["id"] for q in questions if q["text"] == QUESTION)
    room.command(room.moderator, type="moderate_question", question_id=question_id, action="approve")

    poll = room.poll("Which matters most for 2030? 2030 年最重要的是什么？", "single_choice", ["Batteries", "Grid"])
    expect(hall.locator("body")).to_have_attribute("data-scene", "poll")
    room.change(poll, "close")
    expect(hall.locator(".tally-row")).to_have_count(2)  # the results stay on the screen
    expect(hall.locator("body")).to_have_attribute("data-scene", "poll")

    room.command(room.moderator, type="highlight_question", question_id=question_id)
    expect(hall.locator("body")).to_have_attribute("data-scene", "question")
    expect(hall.locator("#screen-question-text")).to_have_text(QUESTION)
    hall.screenshot(path=SHOTS / "screen-auto-question-after-poll.png")

    room.command(room.moderator, type="highlight_question", question_id=None)
    expect(hall.locator("body")).to_have_attribute("data-scene", "join")  # the old poll does not come back

    # the same on a fresh page: the snapshot says what the screen shows
    room.command(room.moderator, type="highlight_question", question_id=question_id)
    hall.reload()
    expect(hall.locator("#screen-question-text")).to_have_text(QUESTION)
    assert watch.errors == [], f"script errors: {watch.errors}"
