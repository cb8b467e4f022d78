"""The lobby in Chromium, as a person uses it on a phone and a laptop: a room code typed in any
case opens its room; before, during and after the event the lobby says where the event stands,
puts what is on now first, groups the rooms by day and keeps the full agenda one tap away; after a
session, its replay (when recorded and not hidden) is linked from the lobby and the room page.

The shipped 2023 event is in the past, so the agenda's clock is set for the during/before cases
(``--agenda-now``, live/clock.py). The recordings are index files written where the server keeps
them (live/media/recording.py's layout): the pages only need to know what was recorded when.
Screenshots land in test-output/ for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.browser.test_pages import PHONE, SHOTS, Watch, browser  # noqa: F401 (browser is a fixture)
from tests.conftest import LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
Page = sync_api.Page
expect = sync_api.expect

LAPTOP = {"width": 1280, "height": 800}
SHANGHAI = ZoneInfo("Asia/Shanghai")
KEYNOTES = "20230919-0930"  # the main forum's keynotes, 09:30-10:40: recorded
OPENING = "20230919-0900"  # its opening, 09:00-09:30: recorded, but the admin hid the replay


def record(data_dir: Path, room: str, local_start: str, seconds: int) -> None:
    """A run of one-second segments from an event-local time, as the recorder indexes them."""
    start = dt.datetime.fromisoformat(local_start).replace(tzinfo=SHANGHAI)
    run = data_dir / "recordings" / room / f"{start.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{room[:4].encode().hex()}"
    run.mkdir(parents=True)
    segment = {"init": "init-a-1.mp4", "duration": 1.0, "discontinuity": False}
    lines = [json.dumps({**segment, "file": f"a-{n}.m4s", "start": start.timestamp() + n}) for n in range(seconds)]
    (run / "index.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def summit(start_live: Callable[..., LiveServer], tmp_path: Path, agenda_now: str | None = None) -> LiveServer:
    """The shipped event with the main forum's opening and keynotes recorded, the opening hidden."""
    data_dir = tmp_path / f"data-{agenda_now or 'real'}".replace(":", "")
    record(data_dir, "main", "2023-09-19T09:05:00", 20)
    record(data_dir, "main", "2023-09-19T09:35:00", 20)
    settings = {OPENING: {"hidden": True, "start_offset": 0, "end_offset": 0}}
    (data_dir / "recordings" / "main" / "replay.json").write_text(json.dumps(settings), encoding="utf-8")
    return start_live(data_dir=data_dir, extra=("--agenda-now", agenda_now) if agenda_now else ())


def day_cards(page: Page, day: int) -> list[tuple[str, str]]:
    """(room, status) of each card of the lobby's day section ``day`` (from 1), in order."""
    cards = page.locator(".lobby-day").nth(day - 1).locator(".room-card")
    return [(str(c.get_attribute("data-room")), str(c.get_attribute("data-status"))) for c in cards.all()]


def shoot(page: Page, name: str) -> None:
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def test_a_room_code_typed_in_any_case_opens_the_room(
    start_live: Callable[..., LiveServer],
    browser: Browser,  # noqa: F811
) -> None:
    server = start_live()
    watch = Watch()
    page = watch.page(browser, server, viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/?lang=en")
    field = page.get_by_label("Have a room code? Type it here")
    field.fill("MAIN")  # as a phone keyboard capitalises it
    field.press("Enter")
    page.wait_for_url("**/r/main")
    expect(page.locator("h1")).to_have_text("Main Forum")

    page.goto("/")
    page.get_by_label("Have a room code? Type it here").fill("Hall-Z")
    page.get_by_role("button", name="Go", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(
        "No room has the code “Hall-Z”. Check the code shown on the hall's screen."
    )
    expect(page.get_by_label("Have a room code? Type it here")).to_have_value("Hall-Z")  # to correct, not retype
    shoot(page, "lobby-code-unknown-phone-en")
    page.get_by_role("link", name="中文").click()  # the language switched there: the lobby, in Chinese
    expect(page.locator("#lobby-state h2")).to_have_text("活动已结束")
    expect(page.get_by_role("alert")).to_have_count(0)

    page.goto("/?lang=zh-CN")
    page.get_by_label("有房间号？在此输入").fill(" Hydrogen-Storage ")
    page.get_by_role("button", name="进入").click()
    page.wait_for_url("**/r/hydrogen-storage")
    expect(page.locator("h1")).to_have_text("氢能与储能产业发展分论坛")
    assert watch.errors == [], f"script errors: {watch.errors}"


def test_during_the_event_what_is_on_now_comes_first_by_day(
    start_live: Callable[..., LiveServer],
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    watch = Watch()
    # 19 September, 14:20: three sub-forums are on, the main forum's morning is over
    server = summit(start_live, tmp_path, "2023-09-19T14:20")
    page = watch.page(browser, server, viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/?lang=en")
    expect(page.locator("#lobby-state h2")).to_have_text("Happening now")
    expect(page.locator(".lobby-day-head").first).to_contain_text("Tue, September 19")
    expect(page.locator(".lobby-day-head").first).to_contain_text("Today")
    assert day_cards(page, 1) == [
        ("industry-chain", "now"), ("industrial-planning", "now"), ("automaker-transformation", "now"), ("main", "over")
    ]  # fmt: skip
    assert [status for _, status in day_cards(page, 2)] == ["later"] * 4
    expect(page.locator(".lobby-day-head").nth(1)).to_contain_text("Wed, September 20")
    first = page.locator(".room-card").first
    expect(first.locator(".badge-now")).to_have_text("On now")
    expect(first.locator(".now-next")).to_contain_text("Case sharing: upstream and downstream carbon reduction")
    # the keynotes are over and recorded: their replay; the hidden opening has none
    main = page.locator('.room-card[data-room="main"]')
    expect(main.get_by_role("link", name="Watch the replay: Keynote speeches")).to_be_visible()
    expect(main.get_by_role("link", name="Watch the replay: Opening ceremony")).to_have_count(0)
    shoot(page, "lobby-during-phone-en")

    # the full agenda is one tap away: every session of every room, by day, what is on marked
    agenda = page.locator("#agenda")
    expect(agenda.locator(".agenda-list").first).to_be_hidden()
    page.get_by_text("Full agenda").click()
    expect(agenda.locator(".agenda-list").first).to_be_visible()
    expect(agenda.locator(".agenda-item")).to_have_count(27)
    on_now = agenda.locator(".agenda-now")
    expect(on_now).to_have_count(3)
    expect(on_now.first).to_contain_text("14:00–15:00")
    expect(
        on_now.first.get_by_role("link", name="Sub-forum: Transformation of Traditional Automakers · Hall C")
    ).to_be_visible()
    keynotes = agenda.locator(f'.agenda-item[data-session="{KEYNOTES}"]')
    keynotes.get_by_role("link", name="Replay").click()
    page.wait_for_url(f"**/r/main/replay/{KEYNOTES}")
    expect(page.locator("h1")).to_have_text("Keynote speeches")

    laptop = watch.page(browser, server, viewport=LAPTOP)
    for language in ("en", "zh-CN"):
        laptop.goto(f"/?lang={language}")
        shoot(laptop, f"lobby-during-1280-{language}")
    expect(laptop.locator("#lobby-state h2")).to_have_text("正在进行")
    expect(laptop.locator(".lobby-day-head").first).to_contain_text("9月19日周二")
    page.goto("/?lang=zh-CN")
    shoot(page, "lobby-during-phone-zh-CN")

    # the next morning: the second day comes first, its rooms on now at the top, the first day last
    server = summit(start_live, tmp_path, "2023-09-20T09:20")
    page = watch.page(browser, server, viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/?lang=en")
    expect(page.locator(".lobby-day-head").first).to_contain_text("Wed, September 20")
    assert day_cards(page, 1) == [
        ("nev-development", "now"), ("hydrogen-storage", "now"),
        ("intelligent-connected", "later"), ("nev-investment", "later"),
    ]  # fmt: skip
    assert [status for _, status in day_cards(page, 2)] == ["over"] * 4
    expect(page.locator(".lobby-day-head").nth(1)).not_to_contain_text("Today")
    assert watch.errors == [], f"script errors: {watch.errors}"


def test_between_sessions_and_before_the_event_the_lobby_says_when_it_goes_on(
    start_live: Callable[..., LiveServer],
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    watch = Watch()
    # lunch on the first day; and the keynotes are not offered as a replay while the agenda
    # (here 10:00) says they are on, though their recording exists
    server = summit(start_live, tmp_path, "2023-09-19T12:30")
    page = watch.page(browser, server, viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/?lang=en")
    expect(page.locator("#lobby-state h2")).to_have_text("Between sessions")
    expect(page.locator("#lobby-state")).to_contain_text(
        "Next: Keynote: low-carbon goals for the whole industry chain and life cycle, Tue, September 19 at 14:00 (UTC+8)."
    )
    assert [status for _, status in day_cards(page, 1)] == ["later", "later", "later", "over"]

    server = summit(start_live, tmp_path, "2023-09-19T10:00")
    page.context.close()
    page = watch.page(browser, server, viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/?lang=en")
    expect(page.locator('.room-card[data-room="main"]')).to_have_attribute("data-status", "now")
    expect(page.get_by_role("link", name="Watch the replay: Keynote speeches")).to_have_count(0)

    server = summit(start_live, tmp_path, "2023-09-18T10:00")
    for language, heading, starts in (
        ("en", "Coming soon", "The event starts on Tue, September 19 at 09:00 (UTC+8)."),
        ("zh-CN", "即将开始", "活动将于9月19日周二 09:00（UTC+8）开始。"),
    ):
        for viewport, size in ((PHONE, "phone"), (LAPTOP, "1280")):
            page = watch.page(browser, server, viewport=viewport)
            page.goto(f"/?lang={language}")
            expect(page.locator("#lobby-state h2")).to_have_text(heading)
            expect(page.locator("#lobby-state")).to_contain_text(starts)
            expect(page.locator(".badge-today")).to_have_count(0)
            assert day_cards(page, 1)[0][0] == "main"
            assert {status for _, status in day_cards(page, 1) + day_cards(page, 2)} == {"later"}
            shoot(page, f"lobby-before-{size}-{language}")
            page.context.close()
    assert watch.errors == [], f"script errors: {watch.errors}"


def test_after_the_event_its_agenda_stays_with_the_replays(
    start_live: Callable[..., LiveServer],
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    watch = Watch()
    server = summit(start_live, tmp_path)  # the real clock: 2023 is over
    page = watch.page(browser, server, viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/?lang=en")
    expect(page.locator("#lobby-state h2")).to_have_text("The event is over")
    expect(page.locator("#lobby-state")).to_contain_text("Watch the replays of its sessions in the agenda below.")
    agenda = page.locator("#agenda")
    expect(agenda.locator(".agenda-item")).to_have_count(27)  # open at once: the agenda is the page now
    expect(agenda.locator(".agenda-item").first).to_be_visible()
    expect(agenda.locator(".agenda-replay")).to_have_count(1)
    expect(agenda.locator(f'.agenda-item[data-session="{OPENING}"] .agenda-replay')).to_have_count(0)
    assert [status for _, status in day_cards(page, 1) + day_cards(page, 2)] == ["over"] * 8
    expect(page.locator(".room-card").first).to_contain_text("09:00–12:00")
    shoot(page, "lobby-after-phone-en")
    page.get_by_role("link", name="Watch the replay: Keynote speeches").click()
    page.wait_for_url(f"**/r/main/replay/{KEYNOTES}")
    expect(page.locator("h1")).to_have_text("Keynote speeches")

    page.goto("/r/main")  # the room page links it too
    page.get_by_role("link", name="Watch the replay: Keynote speeches").click()
    page.wait_for_url(f"**/r/main/replay/{KEYNOTES}")

    for language, heading in (("zh-CN", "活动已结束"), ("en", "The event is over")):
        laptop = watch.page(browser, server, viewport=LAPTOP)
        laptop.goto(f"/?lang={language}")
        expect(laptop.locator("#lobby-state h2")).to_have_text(heading)
        shoot(laptop, f"lobby-after-1280-{language}")
        laptop.context.close()
    page.goto("/?lang=zh-CN")
    expect(page.get_by_role("link", name="观看回放: 主旨演讲")).to_be_visible()
    shoot(page, "lobby-after-phone-zh-CN")
    assert watch.errors == [], f"script errors: {watch.errors}"
