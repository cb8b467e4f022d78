"""A moderator sees, in a real browser, when a question's or a poll's votes come mostly from one
address: a script clears its cookie before each vote, and the console warns on that question and
that poll without changing a vote. Runs against a real ``live serve`` where loopback is an
ordinary address (not a venue network). Screenshots land in test-output/."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.browser.test_pages import SHOTS, Watch, browser, log_in  # noqa: F401 (browser is a fixture)
from tests.conftest import MODERATOR_KEY, LiveServer
from tests.livetools import Person

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
expect = sync_api.expect

STUFFED = 12  # votes from the script: over the alert's minimum of 10, under the address's 20 identities


def stuff(server: LiveServer, *commands: dict[str, object]) -> None:
    """What a vote-stuffing script does: forget the cookie, get a new identity, vote."""
    for _ in range(STUFFED):
        with httpx.Client(base_url=server.url, timeout=10) as script:
            assert script.get("/api/me").status_code == 200
            for command in commands:
                assert script.post("/api/rooms/main/commands", json=command).status_code == 200


def test_the_moderator_is_warned_of_votes_stuffed_from_one_address(
    start_live: Callable[..., LiveServer],
    browser: Browser,  # noqa: F811
) -> None:
    server = start_live(loopback_venue=False)
    organiser = Person(server)
    organiser.login(MODERATOR_KEY)
    organiser.ok("main", {"type": "set_moderation", "mode": "post"})
    stuffed = organiser.ok("main", {"type": "ask_question", "text": "Should we stuff this one?"})["question"]
    organiser.ok("main", {"type": "ask_question", "text": "An honest question"})
    poll_id = organiser.ok(
        "main", {"type": "create_poll", "kind": "single_choice", "question": "Stuffed poll?", "options": ["A", "B"]}
    )["poll_id"]
    organiser.ok("main", {"type": "change_poll", "poll_id": poll_id, "action": "open"})

    watch = Watch()
    page = watch.page(browser, server, viewport={"width": 1280, "height": 900})
    log_in(page, MODERATOR_KEY, "/r/main/moderate")
    expect(page.locator("#live-status")).to_have_text("Live")
    page.locator('[data-tab="live"]').click()
    expect(page.locator(".mod-question")).to_have_count(2)
    expect(page.locator(".badge-vote-alert")).to_have_count(0)

    stuff(
        server,
        {"type": "upvote", "question_id": stuffed["id"]},
        {"type": "vote_poll", "poll_id": poll_id, "choices": ["A"]},
    )

    question = page.locator(".mod-question", has_text="Should we stuff this one?")
    warning = f"{STUFFED} of the last {STUFFED} votes came from one address in 1 min"
    expect(question.locator(".badge-vote-alert")).to_have_text(f"⚠ {warning}")
    expect(question.locator(".q-votes")).to_have_text(f"▲ {STUFFED}")  # warned, not changed
    expect(page.locator(".mod-question", has_text="An honest question").locator(".badge-vote-alert")).to_have_count(0)
    poll = page.locator(f'.poll-item[data-id="{poll_id}"]')
    expect(poll.locator(".badge-vote-alert")).to_have_text(f"⚠ {warning}")
    expect(poll.locator(".badge-vote-alert")).to_have_attribute("title", "These votes may be stuffed by one person. Nothing was removed: you decide, e.g. close the poll or dismiss the question.")  # fmt: skip

    # A moderator who opens the console afterwards sees the same warnings.
    later = watch.page(browser, server, viewport={"width": 1280, "height": 900})
    log_in(later, MODERATOR_KEY, "/r/main/moderate")
    later.locator('[data-tab="live"]').click()
    expect(later.locator(".mod-question", has_text="Should we stuff this one?").locator(".badge-vote-alert")).to_have_text(f"⚠ {warning}")  # fmt: skip
    expect(later.locator(f'.poll-item[data-id="{poll_id}"] .badge-vote-alert')).to_have_count(1)
    page.screenshot(path=str(SHOTS / "vote-alert-console.png"), full_page=True)
    assert not watch.errors and not watch.dialogs
