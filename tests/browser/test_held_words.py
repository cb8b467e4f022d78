"""A word cloud is what the venue screen shows: a blocked word, however it is disguised, stays off
the screen until a moderator allows it from the console, and a rejected word never gets there.

Runs against a real ``live serve`` with the summit's event file, whose blocked words include
"spam" and "赌博"."""

from __future__ import annotations

from tests.browser.test_pages import SHOTS, browser  # noqa: F401 (browser is a fixture)
from tests.browser.test_polls_screen import Browser, Page, Watch, console, create_poll, expect, screen, server, viewer
from tests.conftest import LiveServer

__all__ = ["server"]  # a fixture, used by name


def send_words(page: Page, words: tuple[str, ...]) -> None:
    for index, word in enumerate(words, start=1):
        page.get_by_label(f"Word {index}").fill(word)
    page.locator("#poll").get_by_role("button", name="Vote", exact=True).click()
    expect(page.locator("#poll")).to_contain_text("Your vote was counted.")


def test_held_words_wait_for_the_moderator_before_the_screen_shows_them(server: LiveServer, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    moderator = console(watch, browser, server)
    hall = screen(watch, browser, server)
    alice = viewer(watch, browser, server, name="Alice")
    bob = viewer(watch, browser, server, name="Bob")

    poll = create_poll(moderator, "One word for the day?", "word_cloud")
    send_words(alice, ("Hydrogen", "sp\u00adam"))  # a soft hyphen inside: it draws as "spam"
    send_words(bob, ("\u0455pam", "赌博"))  # a Cyrillic dze for the "s"
    cloud = hall.locator(".word-cloud-big")
    expect(cloud.locator(".word")).to_have_text(["hydrogen"])

    held = poll.locator(".held-word")
    expect(held).to_have_count(2)
    spam = poll.locator('.held-word[data-status="held"]', has_text="spam")
    expect(spam).to_contain_text("2 ballots")  # both disguises are the one word
    expect(poll).to_contain_text("2 words held out of the cloud until you allow them")
    poll.screenshot(path=SHOTS / "console-held-words.png")

    spam.get_by_role("button", name="Allow").click()
    expect(cloud.locator('.word[data-count="2"]')).to_have_text("spam")
    expect(held).to_have_count(1)

    gambling = poll.locator(".held-word", has_text="赌博")
    gambling.get_by_role("button", name="Reject").click()
    expect(gambling).to_have_attribute("data-status", "rejected")
    expect(gambling).to_contain_text("Rejected")
    expect(poll).to_contain_text("0 words held out of the cloud")
    expect(cloud.locator(".word")).to_have_count(2)
    expect(cloud).not_to_contain_text("赌博")

    assert watch.dialogs == [], f"unexpected dialogs: {watch.dialogs}"
    assert watch.errors == [], f"script errors: {watch.errors}"
