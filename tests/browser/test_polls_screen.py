"""Polls of every kind and the venue screens in a real browser: a moderator runs polls, viewers on
phones vote, and the room screen (1920x1080, as in the hall) and the foyer screen follow.

Runs against a real ``live serve`` with the summit's event file: the main forum's screen shows
Chinese and English, the investment forum's screen Chinese only. Screenshots of every scene land
in test-output/ for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.browser.test_pages import PHONE, SHOTS, Watch, browser, log_in  # noqa: F401 (browser is a fixture)
from tests.conftest import MODERATOR_KEY, SCREEN_KEY, LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
Page = sync_api.Page
Locator = sync_api.Locator
expect = sync_api.expect

PHONE_OPTIONS = {"viewport": PHONE, "is_mobile": True, "has_touch": True}
HALL = {"width": 1920, "height": 1080}


@pytest.fixture
def server(start_live: Callable[..., LiveServer]) -> LiveServer:
    return start_live()


def viewer(watch: Watch, browser: Browser, server: LiveServer, name: str | None = None, room: str = "main") -> Page:  # noqa: F811
    page = watch.page(browser, server, **PHONE_OPTIONS)
    if name:  # the name a quiz's leaderboard shows, as the page's name field would save it
        page.goto("/")
        assert page.request.post("/api/me", data={"display_name": name}).ok
    page.goto(f"/r/{room}")
    expect(page.locator("#live-status")).to_have_text("Live")
    return page


def console(watch: Watch, browser: Browser, server: LiveServer) -> Page:  # noqa: F811
    page = watch.page(browser, server, viewport={"width": 1280, "height": 1000})
    log_in(page, MODERATOR_KEY, "/r/main/moderate")
    expect(page.locator("#live-status")).to_have_text("Live")
    return page


def screen(watch: Watch, browser: Browser, server: LiveServer, target: str = "/r/main/screen") -> Page:  # noqa: F811
    page = watch.page(browser, server, viewport=HALL)
    log_in(page, SCREEN_KEY, target)
    return page


def create_poll(
    page: Page, question: str, kind: str, options: str = "", visibility: str = "live", correct: str = ""
) -> Locator:
    create = page.locator("#poll-create")
    if create.get_attribute("open") is None:
        create.locator("summary").click()
    page.get_by_label("Question", exact=True).fill(question)
    page.get_by_label("Kind").select_option(kind)
    if options:
        page.get_by_label("Options, one per line").fill(options)
    if correct:
        page.get_by_label("Correct answer").select_option(correct)
    page.get_by_label("Results").select_option(visibility)
    page.get_by_role("button", name="Create poll").click()
    exact = page.locator(".poll-item-question", has_text=re.compile("^" + re.escape(question) + "$"))
    poll = page.locator(".poll-item", has=exact)
    expect(poll).to_contain_text("Draft")
    poll.get_by_role("button", name="Open").click()
    expect(poll).to_contain_text("Shown to viewers")
    return poll


def vote(page: Page, label: str) -> None:
    page.locator("#poll").get_by_label(label, exact=True).check()
    page.locator("#poll").get_by_role("button", name="Vote", exact=True).click()
    expect(page.locator("#poll")).to_contain_text("Your vote was counted.")


def row(page: Page, option: str) -> Locator:
    return page.locator(f'.tally-row[data-option="{option}"]')


def font_size(locator: Locator) -> float:
    return float(locator.evaluate("node => parseFloat(getComputedStyle(node).fontSize)"))


def test_choice_and_rating_polls_on_phones_console_and_screen(server: LiveServer, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    moderator = console(watch, browser, server)
    hall = screen(watch, browser, server)
    expect(hall.locator("#scene-join")).to_be_visible()
    phones = [viewer(watch, browser, server) for _ in range(3)]

    # A single-choice poll, hidden until revealed; three people vote and one changes their mind.
    poll = create_poll(
        moderator,
        "Which matters most? 哪个最重要？",
        "single_choice",
        "Batteries 电池\nHydrogen 氢能\nGrid 电网",
        "on_reveal",
    )
    expect(hall.locator("#screen-poll-question")).to_have_text("Which matters most? 哪个最重要？")
    vote(phones[0], "Batteries 电池")
    vote(phones[1], "Hydrogen 氢能")
    vote(phones[2], "Batteries 电池")
    phones[2].get_by_role("button", name="Change my vote").click()
    vote(phones[2], "Hydrogen 氢能")
    expect(phones[0].locator("#poll-results")).to_contain_text("Results are shown when the moderator reveals them.")
    expect(row(moderator, "Hydrogen 氢能")).to_have_attribute("data-count", "2")
    expect(row(moderator, "Batteries 电池")).to_have_attribute("data-count", "1")
    expect(hall.locator("#screen-poll-footer")).to_contain_text("3 ballots")
    expect(hall.locator("#screen-poll-footer")).to_contain_text("3 票")  # each language's plural form
    expect(hall.locator(".screen-poll-hidden")).to_be_visible()

    # Closed and revealed: the screen and every phone show the final results.
    poll.get_by_role("button", name="Close").click()
    poll.get_by_role("button", name="Reveal results").click()
    expect(poll).to_contain_text("Revealed")
    for page in (hall, *phones):
        expect(row(page, "Hydrogen 氢能")).to_contain_text("2 · 67%")
        expect(row(page, "Batteries 电池")).to_contain_text("1 · 33%")
        expect(row(page, "Grid 电网")).to_contain_text("0")
    for page in phones:
        expect(page.locator("#poll")).to_contain_text("This poll is closed.")
    expect(row(hall, "Hydrogen 氢能")).to_have_class(re.compile("tally-top"))
    expect(hall.locator("#screen-poll-footer")).to_contain_text("投票已结束")
    hall.screenshot(path=SHOTS / "screen-poll-bars.png")
    phones[2].screenshot(path=SHOTS / "viewer-poll-closed.png", full_page=True)

    # A rating, shown live: stars on the phones, the average big on the screen.
    create_poll(moderator, "How useful was the keynote? 主旨演讲对您有多大帮助？", "rating")
    for page, stars in zip(phones, ("5 stars", "4 stars", "4 stars"), strict=True):
        vote(page, stars)
    expect(hall.locator(".rating-number")).to_have_text("4.3")
    expect(row(hall, "4")).to_have_attribute("data-count", "2")
    expect(phones[0].locator(".rating-number")).to_have_text("4.3")
    hall.screenshot(path=SHOTS / "screen-rating.png")
    phones[0].screenshot(path=SHOTS / "viewer-rating.png", full_page=True)
    moderator.screenshot(path=SHOTS / "moderator-polls.png", full_page=True)

    assert watch.dialogs == [], f"unexpected dialogs: {watch.dialogs}"
    assert watch.errors == [], f"script errors: {watch.errors}"


def test_word_cloud_quiz_and_open_text(server: LiveServer, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    moderator = console(watch, browser, server)
    hall = screen(watch, browser, server)
    alice = viewer(watch, browser, server, name="Alice 李")
    bob = viewer(watch, browser, server, name="Bob")

    # A word cloud: width and case fold together, Chinese stays as typed.
    create_poll(moderator, "A word for future cars? 用一个词形容未来的汽车？", "word_cloud")
    for page, words in ((alice, ("氢能", "Hydrogen")), (bob, ("ＨＹＤＲＯＧＥＮ", "电池"))):
        for index, word in enumerate(words, start=1):
            page.get_by_label(f"Word {index}").fill(word)
        page.locator("#poll").get_by_role("button", name="Vote", exact=True).click()
        expect(page.locator("#poll")).to_contain_text("Your vote was counted.")
    cloud = hall.locator(".word-cloud-big")
    expect(cloud.locator(".word")).to_have_count(3)
    expect(cloud.locator('.word[data-count="2"]')).to_have_text("hydrogen")
    expect(cloud.locator('.word[data-count="1"]')).to_have_text(["氢能", "电池"])
    assert font_size(cloud.locator(".word", has_text="hydrogen")) > 1.3 * font_size(
        cloud.locator(".word", has_text="氢能")
    )
    hall.screenshot(path=SHOTS / "screen-word-cloud.png")

    # A quiz: nobody sees the answer until the moderator reveals it, then the fastest correct answers.
    poll = create_poll(
        moderator,
        "Carbon neutrality by which year? 中国力争在哪一年前实现碳中和？",
        "quiz",
        "2030\n2050\n2060",
        "on_reveal",
        correct="2060",
    )
    vote(alice, "2060")
    vote(bob, "2030")
    expect(alice.locator("#poll-results")).to_contain_text("The answer is revealed at the end.")
    expect(hall.locator(".screen-poll-hidden")).to_be_visible()
    poll.get_by_role("button", name="Close").click()
    poll.get_by_role("button", name="Reveal results").click()
    expect(alice.locator(".quiz-correct")).to_have_text("2060")
    expect(alice.locator(".quiz-verdict")).to_have_text("You got it right!")
    expect(bob.locator(".quiz-verdict")).to_have_text("Not this time.")
    expect(alice.locator(".leaderboard:not(.quiz-standings) .leader-name")).to_have_text(["Alice 李"])
    expect(row(hall, "2060")).to_have_class(re.compile("tally-correct"))
    expect(row(hall, "2060")).to_contain_text("✓ 2060")
    expect(row(hall, "2030")).to_contain_text("1 · 50%")
    # the screen shows the quiz series' leaderboard: everyone who played, by points (test_quiz_series.py)
    expect(hall.locator(".leaderboard-big .leader-name")).to_have_text(["Alice 李", "Bob"])
    expect(hall.locator(".leaderboard-big .leaderboard-title")).to_contain_text("竞答排行榜")
    hall.screenshot(path=SHOTS / "screen-quiz-reveal.png")
    alice.screenshot(path=SHOTS / "viewer-quiz-reveal.png", full_page=True)

    # Open text: the answer waits for the moderator, then goes up on the wall.
    poll = create_poll(moderator, "What should the industry do first? 行业首先应该做什么？", "open_text")
    answer = "Recycle every battery 回收每一块电池"
    alice.get_by_label("Your answer", exact=True).fill(answer)
    alice.get_by_role("button", name="Send answer").click()
    expect(alice.locator("#my-answer-status")).to_have_text("Your answer awaits moderation.")
    bob.get_by_label("Your answer", exact=True).fill("Cleaner grids")
    bob.get_by_role("button", name="Send answer").click()
    expect(hall.locator(".screen-poll-hidden")).to_contain_text("Approved answers appear here.")
    queued = poll.locator(".answer-item", has_text=answer)
    expect(queued).to_contain_text("Awaiting moderation")
    expect(queued).to_contain_text("Alice 李")
    queued.get_by_role("button", name="Approve").click()
    expect(queued).to_contain_text("Approved")
    poll.locator(".answer-item", has_text="Cleaner grids").get_by_role("button", name="Dismiss").click()
    expect(hall.locator(".answer-wall-big .answer-text")).to_have_text([answer])
    expect(alice.locator("#my-answer-status")).to_have_text("Approved: everyone can see it.")
    expect(bob.locator("#my-answer-status")).to_have_text("Your answer awaits moderation.")
    for extra in (
        "Faster charging 更快的充电",
        "Green steel 绿色钢铁",
        "Hydrogen trucks on every highway 高速公路氢能重卡",
    ):
        alice.get_by_role("button", name="Change my answer").click()
        alice.get_by_label("Your answer", exact=True).fill(extra)
        alice.get_by_role("button", name="Send answer").click()
        poll.locator(".answer-item", has_text=extra).get_by_role("button", name="Approve").click()
        expect(hall.locator(".answer-wall-big .answer-text", has_text=extra)).to_be_visible()
    hall.screenshot(path=SHOTS / "screen-open-text.png")
    moderator.screenshot(path=SHOTS / "moderator-open-text.png", full_page=True)

    assert watch.dialogs == [], f"unexpected dialogs: {watch.dialogs}"
    assert watch.errors == [], f"script errors: {watch.errors}"


def test_screen_scenes_and_foyer(server: LiveServer, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    moderator = console(watch, browser, server)
    hall = screen(watch, browser, server)
    phone = viewer(watch, browser, server)
    expect(moderator.locator('[data-scene="auto"]')).to_have_attribute("aria-pressed", "true")

    # A named question, approved and highlighted.
    phone.get_by_label("Your name").fill("Wang 王")
    text = "How will charging keep up with 20 million new cars? 充电设施如何跟上两千万辆新车？"
    phone.get_by_label("Your question").fill(text)
    phone.get_by_role("button", name="Send").click()
    moderator.locator(".mod-question", has_text="charging keep up").get_by_role("button", name="Approve").click()
    moderator.get_by_role("tab", name=re.compile("Live")).click()
    moderator.locator(".mod-question", has_text="charging keep up").get_by_role("button", name="Highlight").click()
    expect(hall.locator("#screen-question-text")).to_have_text(text)

    # The moderator picks each scene; the screen follows.
    moderator.get_by_role("button", name="Join", exact=True).click()
    expect(moderator.locator('[data-scene="join"]')).to_have_attribute("aria-pressed", "true")
    expect(hall.locator("#scene-join")).to_be_visible()
    expect(hall.locator(".join-qr svg")).to_be_visible()
    expect(hall.locator(".join-code-value")).to_have_text("main")
    expect(hall.locator(".join-call")).to_contain_text("扫码提问")
    expect(hall.locator(".join-call")).to_contain_text("Scan to ask questions and vote")
    hall.screenshot(path=SHOTS / "screen-join.png")

    moderator.get_by_role("button", name="Idle", exact=True).click()
    expect(hall.locator("#scene-idle")).to_be_visible()
    expect(hall.locator(".idle-title")).to_contain_text("主论坛")
    expect(hall.locator(".idle-title")).to_contain_text("Main Forum")
    expect(hall.locator(".idle-count")).to_have_text(re.compile(r"^[1-9]\d*$"))
    hall.screenshot(path=SHOTS / "screen-idle.png")

    moderator.get_by_role("button", name="Question", exact=True).click()
    expect(hall.locator("#scene-question")).to_be_visible()
    expect(hall.locator("#screen-question-author")).to_have_text("Wang 王")
    expect(hall.locator(".scene-question .scene-label")).to_contain_text("正在回答")
    hall.screenshot(path=SHOTS / "screen-question.png")

    moderator.get_by_role("button", name="Auto", exact=True).click()
    expect(moderator.locator('[data-scene="auto"]')).to_have_attribute("aria-pressed", "true")
    expect(hall.locator("#scene-question")).to_be_visible()

    # A room whose screen speaks Chinese only.
    hall.goto("/r/nev-investment/screen")
    expect(hall.locator(".join-call")).to_have_text("扫码提问、参与投票")
    expect(hall.locator(".bi-2")).to_have_count(0)
    hall.screenshot(path=SHOTS / "screen-join-zh.png")

    # The foyer: every room's invitation in turn.
    hall.goto("/screen?every=3")
    slide = hall.locator("#lobby-slide")
    expect(slide).to_have_attribute("data-room", "main")
    expect(slide.locator(".join-room")).to_contain_text("主论坛")
    expect(slide.locator(".join-qr svg")).to_be_visible()
    expect(slide.locator(".join-url")).to_have_text(re.compile(r"/r/main$"))
    hall.screenshot(path=SHOTS / "screen-foyer.png")
    expect(slide).to_have_attribute("data-room", "industry-chain", timeout=8_000)
    expect(slide.locator(".join-url")).to_have_text(re.compile(r"/r/industry-chain$"))
    hall.screenshot(path=SHOTS / "screen-foyer-2.png")

    assert watch.dialogs == [], f"unexpected dialogs: {watch.dialogs}"
    assert watch.errors == [], f"script errors: {watch.errors}"
