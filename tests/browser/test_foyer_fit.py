"""The foyer screen at 1920x1080 keeps every room's invitation inside the screen, in both languages:
the room's name never runs into the event's title above it, a long room code stays on one line,
and nothing reaches the page dots at the bottom.

Each room of the shipped event (the longest names and codes there are) is shown in turn; the test
measures the element boxes of every slide. Screenshots land in test-output/.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.browser.test_pages import SHOTS, Watch, browser  # noqa: F401 (browser is a fixture)
from tests.browser.test_screen_fit import HALL, screen
from tests.conftest import REPO, LiveServer, free_port

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
Page = sync_api.Page
expect = sync_api.expect

# what the foyer draws, from top to bottom; each must lie wholly inside the screen
PARTS = [".screen-top", ".join-room", ".join-location", ".join-topic", ".screen-now-next", ".join-call",
         ".join-url", ".join-code", ".join-qr", "#lobby-dots"]  # fmt: skip


def boxes(page: Page) -> dict[str, dict[str, float]]:
    """The boxes of the parts shown now (a room without a topic or sessions has fewer)."""
    found: dict[str, dict[str, float]] = {}
    for selector in PARTS:
        node = page.locator(selector).first
        if node.count() and node.is_visible():
            shape = node.bounding_box()
            if shape is not None and shape["height"] > 0:
                found[selector] = shape
    return found


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (a["x"] < b["x"] + b["width"] - 0.5 and b["x"] < a["x"] + a["width"] - 0.5
            and a["y"] < b["y"] + b["height"] - 0.5 and b["y"] < a["y"] + a["height"] - 0.5)  # fmt: skip


def assert_slide_fits(page: Page, room: str) -> None:
    found = boxes(page)
    for selector in (".screen-top", ".join-room", ".join-code", ".join-qr", "#lobby-dots"):
        assert selector in found, f"{room}: {selector} is not shown"
    for selector, shape in found.items():
        where = f"{room}: {selector} {shape}"
        assert shape["x"] >= -0.5 and shape["y"] >= -0.5, f"{where} starts off the screen"
        assert shape["x"] + shape["width"] <= HALL["width"] + 0.5, f"{where} runs off the right"
        assert shape["y"] + shape["height"] <= HALL["height"] + 0.5, f"{where} runs off the bottom"
    names = list(found)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            assert not overlap(found[first], found[second]), (
                f"{room}: {first} {found[first]} overlaps {second} {found[second]}"
            )
    # the room code is one line: its height is that of one line of its own text
    code = page.locator(".join-code-value").first
    line = float(
        code.evaluate(
            "n => parseFloat(getComputedStyle(n).lineHeight) || parseFloat(getComputedStyle(n).fontSize) * 1.3"
        )
    )
    height = found_height(page, ".join-code-value")
    assert height <= line * 1.5, f"{room}: the room code wraps ({height}px for lines of {line}px)"
    # the slide's text stays above the bottom line (the dots and the address)
    dots = found["#lobby-dots"]
    for selector in (".join-code", ".join-qr", ".join-url"):
        if selector in found:
            assert found[selector]["y"] + found[selector]["height"] <= dots["y"] + 0.5, (
                f"{room}: {selector} runs into the dots"
            )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """The shipped event, with the main forum's opening on now and its keynotes next: the slide
    with the most lines on it."""
    event = (REPO / "config" / "summit-2023.toml").read_text(encoding="utf-8")
    here = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0, tzinfo=None)
    times = [here - dt.timedelta(minutes=10), here + dt.timedelta(minutes=20), here + dt.timedelta(minutes=80)]
    for old, new in zip(["2023-09-19T09:00:00", "2023-09-19T09:30:00", "2023-09-19T10:40:00"], times, strict=True):
        event = event.replace(f"= {old}", f"= {new.isoformat()}", 2)  # the first (main) room's sessions
    event = re.sub(r"end_date = \S+", f"end_date = {(here + dt.timedelta(days=2)).date()}", event, count=1)
    config = tmp_path / "event-now.toml"
    config.write_text(event, encoding="utf-8")
    server = LiveServer(free_port(), tmp_path / "data", config=config)
    server.start()
    yield server
    server.stop()


def found_height(page: Page, selector: str) -> float:
    shape = page.locator(selector).first.bounding_box()
    assert shape is not None, f"{selector} is not shown"
    return float(shape["height"])


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_every_foyer_slide_fits_the_screen(server: LiveServer, browser: Browser, language: str) -> None:  # noqa: F811
    watch = Watch()
    hall = screen(watch, browser, server, f"/screen?lang={language}")
    hall.clock.install()  # the slides turn every ten seconds: the test turns them itself
    hall.reload()
    slide = hall.locator("#lobby-slide")
    expect(slide).to_have_attribute("data-room", "main")
    rooms = hall.locator("#lobby-qr-source [data-slug]").evaluate_all("nodes => nodes.map(n => n.dataset.slug)")
    assert "automaker-transformation" in rooms
    for index, room in enumerate(rooms):
        if index:
            hall.clock.run_for(10_000)
        expect(slide).to_have_attribute("data-room", room)
        if room in ("main", "automaker-transformation"):
            hall.screenshot(path=SHOTS / f"foyer-{room}-{language}.png")
        assert_slide_fits(hall, f"{room} ({language})")
    assert watch.errors == [], f"script errors: {watch.errors}"
