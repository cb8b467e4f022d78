"""A ranking poll in a real browser: a moderator creates it in the console, viewers on phones put
the options in order with the up/down buttons (by mouse and by keyboard) and vote, and the venue
screen, the console and the viewers show the options by Borda points. Screenshots of the result
on the screen (1920x1080) and on a phone (390x844), in both languages, land in test-output/."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.test_pages import SHOTS, Watch, browser  # noqa: F401 (browser is a fixture)
from tests.browser.test_polls_screen import console, create_poll, screen, viewer
from tests.conftest import LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
Page = sync_api.Page
Locator = sync_api.Locator
expect = sync_api.expect

SOLAR, WIND, HYDRO = "Solar 太阳能", "Wind 风能", "Hydro 水电"


@pytest.fixture
def server(start_live: Callable[..., LiveServer]) -> LiveServer:
    return start_live()


def ranked(page: Page) -> Locator:
    return page.locator("#poll .ranking-input .ranking-item")


def move(page: Page, option: str, direction: str) -> None:
    page.locator("#poll").get_by_role("button", name=f"Move {option} {direction}", exact=True).click()


def vote(page: Page) -> None:
    page.locator("#poll").get_by_role("button", name="Vote", exact=True).click()
    expect(page.locator("#poll")).to_contain_text("Your vote was counted.")


def result(page: Page) -> Locator:
    return page.locator(".ranking-result .ranking-row")


def test_viewers_rank_options_and_everyone_sees_the_borda_result(server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    watch = Watch()
    moderator = console(watch, browser, server)
    hall = screen(watch, browser, server)
    phones = [viewer(watch, browser, server) for _ in range(3)]

    create_poll(moderator, "What first? 先发展哪个？", "ranking", "\n".join([SOLAR, WIND, HYDRO]), "after_vote")
    expect(hall.locator("#screen-poll-question")).to_have_text("What first? 先发展哪个？")
    expect(hall.locator(".screen-choice")).to_have_count(3)  # results wait for the poll's close

    # Ann orders with the mouse: Hydro up twice.
    expect(ranked(phones[0]).first).to_have_attribute("data-option", SOLAR)  # the poll's order to start
    move(phones[0], HYDRO, "up")
    move(phones[0], HYDRO, "up")
    expect(ranked(phones[0]).first).to_have_attribute("data-option", HYDRO)
    expect(phones[0].locator("#poll").get_by_role("button", name=f"Move {HYDRO} up")).to_be_disabled()
    vote(phones[0])
    # after_vote: the voter now sees the result, which the others do not yet
    expect(result(phones[0])).to_have_count(3)
    expect(phones[1].locator(".ranking-result")).to_have_count(0)

    # Bo orders with the keyboard only: Wind's "up" button, then Enter; focus stays with Wind.
    up = phones[1].locator("#poll").get_by_role("button", name=f"Move {WIND} up", exact=True)
    up.focus()
    phones[1].keyboard.press("Enter")
    expect(ranked(phones[1]).first).to_have_attribute("data-option", WIND)
    assert phones[1].evaluate("() => document.activeElement.closest('.ranking-item').dataset.option") == WIND
    vote(phones[1])
    vote(phones[2])  # Cai keeps the poll's order

    # Ann: Hydro 2, Solar 1; Bo: Wind 2, Solar 1; Cai: Solar 2, Wind 1 -> Solar 4, Wind 3, Hydro 2
    expect(result(moderator).first).to_have_attribute("data-option", SOLAR)
    expect(result(moderator)).to_have_count(3)
    for page in (moderator, phones[2]):
        expect(result(page).locator(".ranking-option")).to_have_text([SOLAR, WIND, HYDRO])
        expect(result(page).first).to_have_attribute("data-points", "4")
    expect(result(phones[2]).first).to_contain_text("4 points")

    # Ann changes her mind: her old ranking is replaced, not added (Wind, Hydro, Solar now).
    phones[0].get_by_role("button", name="Change my vote").click()
    expect(ranked(phones[0]).first).to_have_attribute("data-option", HYDRO)  # her last order to start from
    move(phones[0], WIND, "up")
    move(phones[0], WIND, "up")
    vote(phones[0])
    expect(result(phones[1]).locator(".ranking-option")).to_have_text([WIND, SOLAR, HYDRO])
    expect(result(phones[1]).first).to_have_attribute("data-points", "5")

    # Closed: the hall sees the result, in both of its languages.
    poll = moderator.locator(".poll-item", has_text="What first?")
    poll.get_by_role("button", name="Close").click()
    expect(result(hall).locator(".ranking-option")).to_have_text([WIND, SOLAR, HYDRO])
    points = [result(hall).nth(i).get_attribute("data-points") for i in range(3)]
    assert points == ["5", "3", "1"]
    expect(result(hall).first.locator(".ranking-points")).to_contain_text("5 分")
    expect(result(hall).first.locator(".ranking-points")).to_contain_text("5 points")
    expect(hall.locator(".scene-label")).to_contain_text("排序")
    inside = hall.evaluate(
        "() => [...document.querySelectorAll('.ranking-row')].every(r => r.getBoundingClientRect().bottom <= innerHeight)"
    )
    assert inside, "a ranking row falls off the screen"
    hall.screenshot(path=SHOTS / "screen-ranking-result.png")
    phones[1].screenshot(path=SHOTS / "viewer-ranking-result-en.png", full_page=True)
    phones[1].goto("/r/main?lang=zh-CN")
    expect(result(phones[1]).first.locator(".ranking-points")).to_have_text("5 分")
    phones[1].screenshot(path=SHOTS / "viewer-ranking-result-zh.png", full_page=True)
    assert watch.errors == [] and watch.dialogs == []


def test_a_phone_orders_a_ranking_in_chinese(server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    watch = Watch()
    moderator = console(watch, browser, server)
    phone = viewer(watch, browser, server)
    phone.goto("/r/main?lang=zh-CN")
    create_poll(moderator, "Order these 排个序", "ranking", "\n".join([SOLAR, WIND, HYDRO]))
    expect(phone.locator("#poll .ranking-form")).to_contain_text("请给选项排序")
    phone.locator("#poll").get_by_role("button", name=f"将「{HYDRO}」上移").click()
    fits = phone.evaluate("() => document.querySelector('#poll').scrollWidth <= innerWidth")
    assert fits, "the ranking form is wider than the phone"
    phone.screenshot(path=SHOTS / "viewer-ranking-input-zh.png", full_page=True)
    phone.locator("#poll").get_by_role("button", name="投票", exact=True).click()
    expect(result(phone).locator(".ranking-option")).to_have_text([SOLAR, HYDRO, WIND])
    assert watch.errors == []
