"""A name follows the participant everywhere at once: typed on the viewer page after its stream
opened, it is the name their quiz answer carries to the leaderboard on the venue screen and on
the page itself, with no reload."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.test_pages import PHONE, SHOTS, Watch, browser  # noqa: F401 (browser is a fixture)
from tests.browser.test_screen_fit import Room, screen
from tests.conftest import LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
expect = sync_api.expect


def test_a_name_typed_on_the_viewer_page_is_on_the_quiz_leaderboard(
    start_live: Callable[..., LiveServer],
    browser: Browser,  # noqa: F811
) -> None:
    server = start_live()
    watch = Watch()
    room = Room(watch, browser, server)
    hall = screen(watch, browser, server)

    phone = watch.page(browser, server, viewport=PHONE, is_mobile=True, has_touch=True)
    phone.goto("/r/main")
    expect(phone.locator("#live-status")).to_have_text("Live")  # the stream is open, without a name
    quiz = room.poll("Carbon neutrality by which year? 中国力争在哪一年前实现碳中和？", "quiz",
                     ["2030", "2050", "2060"], "on_reveal", correct=["2060"])  # fmt: skip
    phone.get_by_label("Your name").fill("Wang Fang 王芳")
    phone.get_by_label("Your name").blur()
    phone.wait_for_function(
        "() => fetch('/api/me').then(r => r.json()).then(me => me.display_name === 'Wang Fang 王芳')"
    )
    phone.locator("#poll").get_by_label("2060", exact=True).check()
    phone.locator("#poll").get_by_role("button", name="Vote", exact=True).click()
    expect(phone.locator("#poll")).to_contain_text("Your vote was counted")

    room.change(quiz, "close")
    room.change(quiz, "reveal")
    expect(hall.locator(".leaderboard-big .leader").first).to_contain_text("Wang Fang 王芳")
    expect(phone.locator("#poll .leader").first).to_contain_text("Wang Fang 王芳")
    phone.screenshot(path=SHOTS / "viewer-quiz-leaderboard-name.png", full_page=True)
    assert watch.errors == [], f"script errors: {watch.errors}"
