"""Every page under the Content-Security-Policy (live/web/headers.py) in a real browser: nothing it
blocks is something the page needs, and the pages still work."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from tests.browser.chromium import launch
from tests.conftest import ADMIN_KEY, LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
Page = sync_api.Page
expect = sync_api.expect

# Each event the page's document hears, kept where the test can read it.
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + (event.blockedURI || "inline") + " " + event.sourceFile);
});
"""

# The page, and what shows that its scripts have run (or null: the page has no script of its own).
PAGES = {
    "/": ".room-card",
    "/login": "#key",
    "/r/main": "#live-status:text('Live')",
    "/r/main/moderate": "#live-status:text('Live')",
    "/r/main/screen": "#scene-join .join-qr svg",
    "/r/main/presenter": "#live-status:text('Live')",
    "/screen": "#lobby-slide > *",
    "/r/main/broadcast": "#broadcast-heading",
    "/admin": "#admin-rows tr",
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch() as browser:
        yield browser


def _violations(page: Page, console: list[str]) -> list[str]:
    return [*page.evaluate("window.__violations"), *console]


def test_every_page_loads_without_a_csp_violation(start_live: Callable[..., LiveServer], browser: Browser) -> None:
    server = start_live()
    context = browser.new_context(base_url=server.url, locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    context.add_init_script(LISTEN)
    page = context.new_page()
    console: list[str] = []
    errors: list[str] = []
    page.on(
        "console", lambda message: console.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto("/login?next=/admin")  # the admin holds every role: every page opens
    page.get_by_label("Access key").fill(ADMIN_KEY)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin$"))

    for path, ready in PAGES.items():
        page.goto(path)
        expect(page.locator(ready).first).to_be_attached()
        assert _violations(page, console) == [], path
    assert errors == [], f"script errors: {errors}"

    # The viewer still asks a question, and the listener does hear a violation when there is one.
    page.goto("/r/main")
    expect(page.locator("#live-status")).to_have_text("Live")
    page.get_by_label("Your question").fill("Does the page still work under its policy?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#ask-feedback")).to_have_text("Your question was sent.")
    assert _violations(page, console) == []
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = '1'; document.body.append(s); }")
    page.wait_for_function("window.__violations.length > 0")
    assert "script-src" in page.evaluate("window.__violations")[0]
    context.close()
