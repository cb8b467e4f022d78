"""Every scene of the venue screen stays inside the screen with the shipped event's longest texts,
at 1920x1080 and 1280x720, whatever the room's screen language (both, Chinese, English); and its
secondary lines (English subtitles, session times, "Now answering" and the other labels) are at
least 32 px at 1080p (the same share of the height at 720p), readable from the back of the hall.

The room is the industry-chain sub-forum (the longest name and topic) while its keynote is on and
the case study is next (the agenda's clock: ``--agenda-now``); the polls are the event file's own
planned ones and the longest options of test_screen_fit, run through the JSON API. For each scene
the test measures the element boxes: every shown element lies inside the screen and inside its
scene, and no box that hides its overflow hides any of it. Screenshots land in test-output/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_pages import SHOTS, Watch, browser  # noqa: F401 (browser is a fixture)
from tests.browser.test_screen_fit import FIVE, TWELVE
from tests.conftest import MODERATOR_KEY, REPO, SCREEN_KEY, LiveServer, free_port

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
Page = sync_api.Page
APIRequestContext = sync_api.APIRequestContext
expect = sync_api.expect

ROOM = "industry-chain"
SIZES = {"1080": {"width": 1920, "height": 1080}, "720": {"width": 1280, "height": 720}}
SECONDARY_PX = 32  # at 1080 px of height; in proportion below
SECONDARY = [".bi-2", ".screen-room-name-2", ".screen-event-2", ".screen-session-time", ".screen-session-label",
             ".screen-session-speakers", ".scene-label", ".join-code-label", ".screen-poll-footer",
             ".screen-poll-hidden", ".idle-count-label", ".leaderboard-title"]  # fmt: skip
QUESTION = (
    "电池碳足迹将如何核算？从原材料开采、正极材料生产、电芯制造到整车装配，每一个环节的排放数据由谁来提供、由谁来核查？"
    "欧盟电池法规要求的碳足迹声明，国内企业需要提前做哪些准备？回收再利用的材料又如何计入？"
    " How will battery carbon footprints be counted, from mining and cathode production to cell making and "
    "vehicle assembly? Who supplies each step's emission data and who verifies it? What must Chinese makers "
    "prepare for the EU Battery Regulation's carbon footprint declaration, and how is recycled material counted?"
)[:500]
NAMES = ["Alice 李", "Wang Fang 王芳", "Bob", "Zhang Wei 张伟", "Chen Jing 陈静", "Liu Yang 刘洋",
         "Maria Schneider-Hoffmann", "Zhao Lei 赵磊", "Sun Li 孙丽", "Omar"]  # fmt: skip
WORDS = ["电动化 electric", "智能 smart", "氢能 hydrogen", "autonomous 自动驾驶", "低碳 low-carbon", "connected",
         "共享 shared", "software-defined 软件定义", "safe 安全", "affordable 实惠"]  # fmt: skip
ANSWERS = [
    "Where will the refuelling stations for heavy trucks come from, and who pays for them? 重卡加氢站从哪里来，谁来出钱？",
    "How cheap must green hydrogen become before it beats diesel on long-haul routes? 绿氢要便宜到什么程度才能在长途运输上胜过柴油？",
    "Is storage in salt caverns realistic in China? 盐穴储氢在中国现实吗？",
    "What standards for high-pressure tanks are coming next year? 明年将出台哪些高压储氢瓶标准？",
]


def event_file(directory: Path, language: str) -> Path:
    text = (REPO / "config" / "summit-2023.toml").read_text(encoding="utf-8")
    text = re.sub(r'screen_language = "[^"]+"', f'screen_language = "{language}"', text)
    path = directory / f"event-{language}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=["both", "zh-CN", "en"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp(f"screens-{request.param}")
    config = event_file(directory, request.param)
    server = LiveServer(free_port(), directory / "data", config=config, extra=("--agenda-now", "2023-09-19T14:10"))
    server.start()
    yield server
    server.stop()


class Hall:
    """The room's screen at both sizes, and the moderator and voters that drive it."""

    def __init__(self, watch: Watch, browser: Browser, server: LiveServer, screens: bool = True) -> None:  # noqa: F811
        self.watch, self.browser, self.server = watch, browser, server
        self.moderator = watch.page(browser, server).request
        assert self.moderator.post("/api/login", data={"key": MODERATOR_KEY}).ok
        targets = SIZES.items() if screens else ()
        self.screens = {size: self.screen(viewport, f"/r/{ROOM}/screen") for size, viewport in targets}

    def screen(self, viewport: dict[str, int], target: str) -> Page:
        page = self.watch.page(self.browser, self.server, viewport=viewport)
        assert page.request.post("/api/login", data={"key": SCREEN_KEY}).ok
        page.goto(target)
        return page

    def command(self, request: APIRequestContext, **command: Any) -> dict[str, Any]:
        response = request.post(f"/api/rooms/{ROOM}/commands", data=command)
        assert response.ok, response.text()
        return response.json()  # type: ignore[no-any-return]

    def moderated(self) -> dict[str, Any]:
        return self.moderator.get(f"/api/rooms/{ROOM}?as=moderator").json()["live"]  # type: ignore[no-any-return]

    def poll(self, question: str, kind: str, options: list[str] | None = None, **extra: Any) -> str:
        self.command(self.moderator, type="create_poll", kind=kind, question=question, options=options or [], **extra)
        poll_id = str(next(p["id"] for p in self.moderated()["polls"] if p["question"] == question))
        self.change(poll_id, "open")
        return poll_id

    def change(self, poll_id: str, action: str) -> None:
        self.command(self.moderator, type="change_poll", poll_id=poll_id, action=action)

    def voter(self, name: str | None = None) -> APIRequestContext:
        request = self.watch.page(self.browser, self.server).request
        assert request.get("/api/me").ok
        if name:
            assert request.post("/api/me", data={"display_name": name}).ok
        return request

    def vote(self, poll_id: str, *choices: str, name: str | None = None) -> None:
        self.command(self.voter(name), type="vote_poll", poll_id=poll_id, choices=list(choices))

    def shows(self, scene: str, selector: str, text: str | None = None) -> None:
        for page in self.screens.values():
            expect(page.locator("body")).to_have_attribute("data-scene", scene)
            target = page.locator(f"#scene-{scene} {selector}").first
            expect(target).to_contain_text(text) if text else expect(target).to_be_visible()

    def measure(self, name: str) -> None:
        for size, page in self.screens.items():
            page.screenshot(path=SHOTS / f"screen-scene-{name}-{self.server.config.stem[6:]}-{size}.png")
            assert_scene_fits(page, f"{name} at {size}p")


# what every shown element must satisfy, measured in the page: (element, problem) pairs
PROBLEMS = """([secondary, minimum]) => {
  const W = innerWidth, H = innerHeight, problems = [];
  const name = (n) => n.tagName.toLowerCase() + (n.id ? "#" + n.id : "") + (n.className && typeof n.className === "string" ? "." + n.className.trim().split(/\\s+/).join(".") : "");
  const shown = (n) => n.getClientRects().length > 0 && getComputedStyle(n).visibility !== "hidden";
  const scene = document.querySelector(".scene:not([hidden])");
  const sceneBox = scene.getBoundingClientRect();
  const hasText = (n) => Array.from(n.childNodes).some((c) => c.nodeType === 3 && c.textContent.trim());
  for (const n of document.querySelectorAll(".screen-stage *")) {
    if (!shown(n) || n.closest("[hidden]")) continue;
    const r = n.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    if (r.left < -0.5 || r.top < -0.5 || r.right > W + 0.5 || r.bottom > H + 0.5) problems.push([name(n), "off the screen " + JSON.stringify(r)]);
    if (scene.contains(n) && (r.left < sceneBox.left - 0.5 || r.right > sceneBox.right + 0.5 || r.top < sceneBox.top - 0.5 || r.bottom > sceneBox.bottom + 0.5))
      problems.push([name(n), "outside its scene " + JSON.stringify(r) + " " + JSON.stringify(sceneBox)]);
    const style = getComputedStyle(n);
    // a text cut on purpose, where it says so (a line clamp, an ellipsis), is the design's, not an overflow
    const clamped = (style.webkitLineClamp && style.webkitLineClamp !== "none") || style.textOverflow === "ellipsis";
    if (!clamped && /hidden|clip/.test(style.overflowY + style.overflowX) && (n.scrollHeight > n.clientHeight + 1 || n.scrollWidth > n.clientWidth + 1))
      problems.push([name(n), "hides part of its content " + n.scrollWidth + "x" + n.scrollHeight + " in " + n.clientWidth + "x" + n.clientHeight]);
    if (hasText(n) && secondary.some((s) => n.matches(s) || n.closest(s)) && parseFloat(style.fontSize) < minimum - 0.5)
      problems.push([name(n), "secondary text of " + style.fontSize + " (at least " + minimum.toFixed(1) + "px)"]);
  }
  return problems;
}"""


def assert_scene_fits(page: Page, where: str) -> None:
    minimum = SECONDARY_PX * page.viewport_size["height"] / 1080  # type: ignore[index]
    problems = page.evaluate(PROBLEMS, [SECONDARY, minimum])
    assert not problems, f"{where}: " + "; ".join(f"{element}: {problem}" for element, problem in problems[:8])


def test_every_scene_of_the_room_screen_fits(server: LiveServer, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    hall = Hall(watch, browser, server)

    # the invitation, with the keynote on now and the case study next
    hall.shows("join", ".screen-session-title")
    hall.measure("join")
    hall.command(hall.moderator, type="set_screen_scene", scene="idle")
    hall.shows("idle", ".idle-count")
    hall.measure("idle")
    hall.command(hall.moderator, type="set_screen_scene", scene="auto")

    # a question as long as a question may be, from a named asker, highlighted
    asker = hall.voter("Maria Schneider-Hoffmann 施耐德")
    question_id = hall.command(asker, type="ask_question", text=QUESTION)["question"]["id"]
    hall.command(hall.moderator, type="moderate_question", question_id=question_id, action="approve")
    hall.command(hall.moderator, type="highlight_question", question_id=question_id)
    hall.shows("question", "#screen-question-text")
    hall.measure("question")
    hall.command(hall.moderator, type="highlight_question", question_id=None)

    # a poll of each kind, the event's own and the longest options
    five = hall.poll("Which matters most for 2030? 2030 年最重要的是什么？", "single_choice", FIVE)
    for choice in (FIVE[1], FIVE[1], FIVE[0]):
        hall.vote(five, choice)
    hall.shows("poll", '.tally-row[data-count="2"]')
    hall.measure("single-choice")
    hall.change(five, "delete")
    twelve = hall.poll("Which should come first? 哪个应该优先？", "single_choice", TWELVE)
    hall.vote(twelve, TWELVE[11])
    hall.shows("poll", '.tally-row[data-count="1"]')
    hall.measure("twelve-options")
    hall.change(twelve, "delete")

    options = [
        "Hydrogen cost 制氢成本",
        "Refuelling stations 加氢站",
        "Storage and transport 储运",
        "Fuel cell cost 燃料电池成本",
    ]
    several = hall.poll(
        "What holds hydrogen vehicles back most? 氢能汽车发展的最大障碍是什么？", "multiple_choice", options
    )
    hall.vote(several, options[0], options[1])
    hall.shows("poll", '.tally-row[data-count="1"]')
    hall.measure("multiple-choice")
    hall.change(several, "delete")

    quiz = hall.poll("China aims to reach carbon neutrality by which year? 中国力争在哪一年前实现碳中和？", "quiz",
                     ["2030", "2050", "2060"], correct=["2060"], visibility="on_reveal")  # fmt: skip
    for name in NAMES:
        hall.vote(quiz, "2060", name=name)
    hall.shows("poll", ".screen-choice")
    hall.measure("quiz-hidden")
    hall.change(quiz, "close")
    hall.change(quiz, "reveal")
    hall.shows("poll", ".leaderboard-big .leader")
    hall.measure("quiz-revealed")
    hall.change(quiz, "delete")

    rating = hall.poll("How useful was the opening session? 开幕环节对您有多大帮助？", "rating")
    for stars in ("5", "4", "4", "2"):
        hall.vote(rating, stars)
    hall.shows("poll", ".rating-number")
    hall.measure("rating")
    hall.change(rating, "delete")

    cloud = hall.poll("One word for the car of 2030? 用一个词形容2030年的汽车？", "word_cloud")
    for index, word in enumerate(WORDS):
        hall.vote(cloud, word)
        if index % 3 == 0:
            hall.vote(cloud, WORDS[0])
    hall.shows("poll", ".word-cloud-big .word")
    hall.measure("word-cloud")
    hall.change(cloud, "delete")

    wall = hall.poll("Your question for the hydrogen panel? 您想问氢能圆桌什么问题？", "open_text")
    for answer in ANSWERS:
        hall.vote(wall, answer)
    for answer in next(p for p in hall.moderated()["polls"] if p["id"] == wall)["answers"]:
        hall.command(hall.moderator, type="moderate_answer", poll_id=wall, participant_id=answer["participant_id"],
                     action="approve")  # fmt: skip
    hall.shows("poll", ".answer-wall-big .answer-card")
    for page in hall.screens.values():
        expect(page.locator(".answer-wall-big .answer-card")).to_have_count(len(ANSWERS))
    hall.measure("open-text")

    assert watch.errors == [], f"script errors: {watch.errors}"


def test_every_foyer_slide_fits_at_both_sizes(server: LiveServer, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    hall = Hall(watch, browser, server, screens=False)
    # two minutes a slide, and the page's clock turns them as the test says (time also flows)
    pages = [hall.screen(viewport, "/screen?every=120") for viewport in SIZES.values()]
    for page in pages:
        page.clock.install()
        page.reload()
    rooms = pages[0].locator("#lobby-qr-source [data-slug]").evaluate_all("nodes => nodes.map(n => n.dataset.slug)")
    for index, room in enumerate(rooms):
        for page, size in zip(pages, SIZES, strict=True):
            if index:
                page.clock.run_for(120_000)
            expect(page.locator("#lobby-slide")).to_have_attribute("data-room", room)
            if room in ("main", ROOM, "automaker-transformation"):
                page.screenshot(path=SHOTS / f"screen-scene-foyer-{room}-{server.config.stem[6:]}-{size}.png")
            assert_scene_fits(page, f"foyer {room} at {size}p")
    assert watch.errors == [], f"script errors: {watch.errors}"
