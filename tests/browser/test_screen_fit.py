"""The venue screen at 1920x1080 shows everything at once: every option of a poll, the choices of
a poll whose results are still hidden, whole rows of a quiz's leaderboard, and on the foyer screen
the hall each room is in.

Polls are run through the JSON API (quicker than the console); voters are browser contexts with
their own anonymous identity. Screenshots land in test-output/ for a person to look at.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.test_pages import SHOTS, Watch, browser  # noqa: F401 (browser is a fixture)
from tests.conftest import MODERATOR_KEY, SCREEN_KEY, LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
Page = sync_api.Page
APIRequestContext = sync_api.APIRequestContext
expect = sync_api.expect

HALL = {"width": 1920, "height": 1080}
FIVE = [
    "Batteries 电池",
    "Hydrogen fuel cells for heavy trucks, buses and long-haul logistics across the whole country "
    "重型卡车、公交和全国长途物流的氢燃料电池",
    "Grid 电网",
    "Charging 充电",
    "Recycling 回收",
]
TWELVE = [f"Option {n} 选项{n}" for n in range(1, 12)] + [
    "A very long twelfth option that goes on and on about policy, subsidies, standards and markets "
    "第十二个很长的选项"
]


@pytest.fixture
def server(start_live: Callable[..., LiveServer]) -> LiveServer:
    return start_live()


class Room:
    """The main room driven through the JSON API, as a moderator and as voters."""

    def __init__(self, watch: Watch, browser: Browser, server: LiveServer) -> None:  # noqa: F811
        self.watch, self.browser, self.server = watch, browser, server
        self.moderator = watch.page(browser, server).request
        assert self.moderator.post("/api/login", data={"key": MODERATOR_KEY}).ok

    def command(self, request: APIRequestContext, **command: Any) -> None:
        response = request.post("/api/rooms/main/commands", data=command)
        assert response.ok, response.text()

    def poll(self, question: str, kind: str, options: list[str], visibility: str = "live", **extra: Any) -> str:
        self.command(self.moderator, type="create_poll", kind=kind, question=question, options=options,
                     visibility=visibility, **extra)  # fmt: skip
        polls = self.moderator.get("/api/rooms/main?as=moderator").json()["live"]["polls"]
        poll_id = next(p["id"] for p in polls if p["question"] == question)
        self.change(poll_id, "open")
        return str(poll_id)

    def change(self, poll_id: str, action: str) -> None:
        self.command(self.moderator, type="change_poll", poll_id=poll_id, action=action)

    def vote(self, poll_id: str, choice: str, name: str | None = None) -> None:
        page = self.watch.page(self.browser, self.server)
        page.goto("/")
        if name:
            assert page.request.post("/api/me", data={"display_name": name}).ok
        self.command(page.request, type="vote_poll", poll_id=poll_id, choices=[choice])
        page.context.close()


def screen(watch: Watch, browser: Browser, server: LiveServer, target: str = "/r/main/screen") -> Page:  # noqa: F811
    page = watch.page(browser, server, viewport=HALL)
    page.goto(f"/login?next={target}")
    page.get_by_label("Access key").fill(SCREEN_KEY)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{target}")
    return page


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found


def assert_on_screen(page: Page, rows_selector: str, count: int) -> None:
    """Every row lies wholly inside the 1920x1080 stage, above the poll's footer, and is not clipped
    by the results box (which hides what overflows it)."""
    rows = page.locator(rows_selector)
    expect(rows).to_have_count(count)
    footer = box(page, "#screen-poll-footer")
    results = box(page, "#screen-poll-results")
    for index in range(count):
        row = rows.nth(index)
        expect(row).to_be_visible()
        found = row.bounding_box()
        assert found is not None
        name = f"row {index + 1} of {count} {found}"
        assert found["x"] >= 0 and found["y"] >= 0, name
        assert found["x"] + found["width"] <= HALL["width"] + 0.5, name
        assert found["y"] + found["height"] <= footer["y"] + 0.5, f"{name} runs under the footer {footer}"
        assert found["y"] + found["height"] <= results["y"] + results["height"] + 0.5, f"{name} is cut off"
        assert found["x"] + found["width"] <= results["x"] + results["width"] + 0.5, f"{name} is cut off"
        label = row.locator(".tally-label, .screen-choice-text").first
        assert float(label.evaluate("n => parseFloat(getComputedStyle(n).fontSize)")) >= 24, f"{name}: too small"


def test_every_option_of_a_poll_fits_the_screen(server: LiveServer, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    room = Room(watch, browser, server)
    hall = screen(watch, browser, server)

    five = room.poll("Which matters most for 2030? 2030 年最重要的是什么？", "single_choice", FIVE)
    for choice in (FIVE[1], FIVE[1], FIVE[0]):
        room.vote(five, choice)
    expect(hall.locator(".tally-row").nth(1)).to_have_attribute("data-count", "2")
    assert_on_screen(hall, ".tally-row", 5)
    hall.screenshot(path=SHOTS / "screen-fit-5-options.png")

    twelve = room.poll("Which should come first? 哪个应该优先？", "single_choice", TWELVE)
    for choice in (TWELVE[0], TWELVE[11], TWELVE[11]):
        room.vote(twelve, choice)
    expect(hall.locator(".tally-row").nth(11)).to_have_attribute("data-count", "2")
    assert_on_screen(hall, ".tally-row", 12)
    hall.screenshot(path=SHOTS / "screen-fit-12-options.png")

    assert watch.errors == [], f"script errors: {watch.errors}"


def test_hidden_results_still_show_the_choices(server: LiveServer, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    room = Room(watch, browser, server)
    hall = screen(watch, browser, server)

    # A quiz: the hall sees the choices, without counts, until the moderator reveals the answer.
    quiz = room.poll("Carbon neutrality by which year? 中国力争在哪一年前实现碳中和？", "quiz",
                     ["2030", "2050", "2060"], "on_reveal", correct=["2060"])  # fmt: skip
    room.vote(quiz, "2060")
    expect(hall.locator(".screen-choice-text")).to_have_text(["2030", "2050", "2060"])
    expect(hall.locator(".tally-value")).to_have_count(0)
    expect(hall.locator(".screen-poll-hidden")).to_contain_text("Results are shown when the moderator reveals them.")
    assert_on_screen(hall, ".screen-choice", 3)
    hall.screenshot(path=SHOTS / "screen-fit-quiz-hidden.png")

    # Twelve choices whose results only show once the poll closes (the screen never votes).
    after = room.poll("Which should come first? 哪个应该优先？", "single_choice", TWELVE, "after_vote")
    room.vote(after, TWELVE[2])
    expect(hall.locator(".screen-choice-text")).to_have_count(12)
    expect(hall.locator(".screen-poll-hidden")).to_contain_text("Results appear when the poll closes.")
    expect(hall.locator(".screen-poll-hidden")).to_contain_text("投票结束后显示结果。")
    assert_on_screen(hall, ".screen-choice", 12)
    hall.screenshot(path=SHOTS / "screen-fit-after-vote-hidden.png")
    room.change(after, "close")
    expect(hall.locator(f'.tally-row[data-option="{TWELVE[2]}"]')).to_have_attribute("data-count", "1")
    expect(hall.locator(".screen-choice")).to_have_count(0)
    assert_on_screen(hall, ".tally-row", 12)

    # A rating hidden until revealed: its scale is shown.
    rating = room.poll("How useful was the keynote? 主旨演讲对您有多大帮助？", "rating", [], "on_reveal")
    expect(hall.locator(".screen-choice")).to_have_count(5)
    expect(hall.locator(".screen-poll-hidden")).to_be_visible()
    assert_on_screen(hall, ".screen-choice", 5)
    hall.screenshot(path=SHOTS / "screen-fit-rating-hidden.png")
    room.change(rating, "reveal")
    expect(hall.locator(".rating-number")).to_be_visible()

    assert watch.errors == [], f"script errors: {watch.errors}"


def test_quiz_leaderboard_shows_whole_rows_only(server: LiveServer, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    room = Room(watch, browser, server)
    hall = screen(watch, browser, server)

    quiz = room.poll("Carbon neutrality by which year? 中国力争在哪一年前实现碳中和？", "quiz",
                     ["2030", "2050", "2060", "2070"], "on_reveal", correct=["2060"])  # fmt: skip
    names = ["Alice 李", "Wang Fang 王芳", "Bob", "Zhang Wei 张伟", "Chen Jing 陈静", "Liu Yang 刘洋",
             "Maria Schneider", "Zhao Lei 赵磊", "Sun Li 孙丽", "Omar"]  # fmt: skip
    for name in names:
        room.vote(quiz, "2060", name=name)
    room.change(quiz, "close")
    room.change(quiz, "reveal")
    leaders = hall.locator(".leaderboard-big .leader")
    expect(leaders.first).to_contain_text(names[0])
    side = box(hall, ".leaderboard-big")
    shown = 0
    for index in range(leaders.count()):
        leader = leaders.nth(index)
        if not leader.is_visible():
            continue
        found = leader.bounding_box()
        assert found is not None
        assert found["y"] + found["height"] <= side["y"] + side["height"] + 0.5, f"leader {index + 1} is cut: {found}"
        assert found["y"] + found["height"] <= HALL["height"], f"leader {index + 1} is off the screen"
        shown += 1
    assert shown >= 5, f"only {shown} of 10 leaders shown"
    assert_on_screen(hall, ".tally-row", 4)
    hall.screenshot(path=SHOTS / "screen-fit-leaderboard.png")

    assert watch.errors == [], f"script errors: {watch.errors}"


def test_foyer_slide_names_the_room_and_its_hall(server: LiveServer, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    hall = screen(watch, browser, server, "/screen?every=3")
    slide = hall.locator("#lobby-slide")
    expect(slide).to_have_attribute("data-room", "main")
    expect(slide.locator(".join-room")).to_contain_text("主论坛")
    expect(slide.locator(".join-location")).to_contain_text("主会场")
    expect(slide.locator(".join-location")).to_contain_text("Main Hall")
    assert box(hall, ".join-location")["y"] + box(hall, ".join-location")["height"] <= HALL["height"]
    hall.screenshot(path=SHOTS / "screen-foyer-hall.png")
    expect(slide).to_have_attribute("data-room", "industry-chain", timeout=8_000)
    expect(slide.locator(".join-location")).to_contain_text("A厅")
    expect(slide.locator(".join-location")).to_contain_text("Hall A")
    for selector in (".join-room", ".join-location", ".join-code", ".join-qr"):
        found = box(hall, selector)
        assert found["y"] + found["height"] <= HALL["height"] - 20, f"{selector} runs off the foyer screen"
    hall.screenshot(path=SHOTS / "screen-foyer-hall-2.png")

    assert watch.errors == [], f"script errors: {watch.errors}"
