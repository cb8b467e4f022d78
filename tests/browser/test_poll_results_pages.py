"""What a viewer's phone and the venue screen show of a poll's results is what the server sent
(``tally``, and ``tally_hidden_until`` saying what will show a hidden one): the pages decide
nothing. A quiz shown live keeps its results for the reveal; an after-vote word cloud shows a
voter the cloud their vote earned, at once, from the vote's own reply."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.test_pages import Watch, browser  # noqa: F401 (browser is a fixture)
from tests.browser.test_polls_screen import row, screen, viewer
from tests.browser.test_screen_fit import Room
from tests.conftest import LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
expect = sync_api.expect


@pytest.fixture
def server(start_live: Callable[..., LiveServer]) -> LiveServer:
    return start_live()


def test_pages_show_the_results_the_server_sends(server: LiveServer, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    room = Room(watch, browser, server)
    hall = screen(watch, browser, server)
    phone = viewer(watch, browser, server)

    # A quiz whose results are "live": the server keeps them until the reveal, and says so.
    quiz = room.poll("Carbon neutral by? 碳中和？", "quiz", ["2050", "2060"], "live", correct=["2060"])
    room.vote(quiz, "2060")
    phone.locator("#poll").get_by_label("2060", exact=True).check()
    phone.locator("#poll").get_by_role("button", name="Vote", exact=True).click()
    expect(phone.locator("#poll")).to_contain_text("Your vote was counted.")
    expect(phone.locator("#poll-results")).to_contain_text("The answer is revealed at the end.")
    expect(phone.locator(".tally-row")).to_have_count(0)
    expect(hall.locator(".screen-poll-hidden")).to_contain_text("Results are shown when the moderator reveals them.")
    expect(hall.locator(".tally-value")).to_have_count(0)
    room.change(quiz, "reveal")
    expect(row(phone, "2060")).to_have_attribute("data-count", "2")
    expect(row(hall, "2060")).to_have_attribute("data-count", "2")

    # An after-vote word cloud: a note until this phone votes, then the cloud its vote earned.
    cloud = room.poll("One word? 一个词？", "word_cloud", [], "after_vote")
    room.vote(cloud, "grid")
    expect(phone.locator("#poll-results")).to_contain_text("Results appear once you have voted.")
    expect(hall.locator(".screen-poll-hidden")).to_contain_text("Results appear when the poll closes.")
    phone.get_by_label("Word 1").fill("Hydrogen")
    phone.locator("#poll").get_by_role("button", name="Vote", exact=True).click()
    expect(phone.locator(".word")).to_have_count(2)
    expect(phone.locator('.word[data-count="1"]')).to_have_text(["grid", "hydrogen"])
    expect(hall.locator(".word")).to_have_count(0)  # the screen never votes: it waits for the close
    room.change(cloud, "close")
    expect(hall.locator(".word")).to_have_count(2)
    assert watch.errors == [], f"script errors: {watch.errors}"
