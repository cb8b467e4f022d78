"""Refusals read in the page's language, next to the form they are about, and go once they are no
longer true: a moderator's poll with one option is refused in Chinese under the poll form (not an
English detail in a toast), and the ask form's "no answer from the server" error clears itself
when the page is live again."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.browser.test_pages import PHONE, SHOTS, Watch, browser, log_in  # noqa: F401 (browser is a fixture)
from tests.conftest import MODERATOR_KEY, LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
expect = sync_api.expect

LATIN = re.compile(r"[A-Za-z]{3,}")


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-CN", "选择题投票需要 2 到 12 个选项"), ("en", "a choice poll needs 2 to 12 options")],
)
def test_a_refused_poll_says_why_under_its_form_in_the_page_language(
    start_live: Callable[..., LiveServer],
    browser: Browser,  # noqa: F811
    language: str,
    expected: str,
) -> None:
    server = start_live()
    watch = Watch()
    console = watch.page(browser, server, viewport={"width": 1920, "height": 1080})
    log_in(console, MODERATOR_KEY, f"/r/main/moderate?lang={language}")
    form = console.locator("#poll-form")
    console.locator("#poll-create summary").click()
    form.locator("#poll-question").fill("2030 年最重要的是什么？")
    form.locator("#poll-options").fill("电池 Batteries")
    form.locator("button[type=submit]").click()
    feedback = console.locator("#poll-form-feedback")
    expect(feedback).to_contain_text(expected)
    if language == "zh-CN":
        assert not LATIN.search(feedback.inner_text()), f"English in the Chinese page: {feedback.inner_text()!r}"
    expect(console.locator(".notice-error")).to_have_count(0)  # not a toast
    form.screenshot(path=SHOTS / f"console-poll-refused-{language}.png")

    form.locator("#poll-options").fill("电池 Batteries\n电网 Grid")
    form.locator("button[type=submit]").click()
    expect(feedback).to_be_empty()
    assert watch.errors == [], f"script errors: {watch.errors}"


def test_the_connection_error_under_the_ask_form_clears_once_live_again(
    start_live: Callable[..., LiveServer],
    browser: Browser,  # noqa: F811
) -> None:
    server = start_live()
    watch = Watch()
    phone = watch.page(browser, server, viewport=PHONE, is_mobile=True, has_touch=True)
    phone.goto("/r/main?lang=zh-CN")
    status = phone.locator("#live-status")
    expect(status).to_have_text("实时")
    server.stop()
    phone.get_by_label("您的问题").fill("服务器重启后还在吗？")
    phone.locator("#ask-submit").click()
    feedback = phone.locator("#ask-feedback")
    expect(feedback).to_have_class(re.compile("form-feedback-error"), timeout=20_000)
    phone.screenshot(path=SHOTS / "viewer-ask-connection-lost-zh.png")
    server.start()  # same port, same data
    expect(status).to_have_text("实时", timeout=20_000)
    expect(feedback).to_be_empty()
    assert watch.errors == [], f"script errors: {watch.errors}"
