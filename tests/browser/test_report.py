"""The engagement report in a real browser: the test makes a room's activity itself (viewers
open the room, questions are asked, approved, rejected, merged, edited and answered, a poll is
voted on), then opens /admin/report as the admin and checks that the page, its JSON and its CSV
show exactly that; and that the printed report fits an A4 page.

The viewers are only known to the report through the audience samples (live/sampler.py): without
sampling, the page's peak connections would read 0 and this test fails. Screenshots (screen,
and print-emulated at A4 width, in English and Chinese) land in test-output/.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.test_csp import LISTEN
from tests.browser.test_pages import SHOTS, Watch, browser, log_in  # noqa: F401 (browser is a fixture)
from tests.conftest import ADMIN_KEY, MODERATOR_KEY, LiveServer
from tests.livetools import Person

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
Page = sync_api.Page
expect = sync_api.expect

VIEWERS = 3
A4_WIDTH = 703  # CSS px between 12 mm margins of a 210 mm page: what the print CSS lays out for
OVERFLOWING = """() => Array.from(document.querySelectorAll('main *')).filter(n => {
  if (!n.offsetParent && n.tagName !== 'CANVAS') return false;
  const box = n.getBoundingClientRect();
  return box.width > 0 && box.right > document.documentElement.clientWidth + 1;
}).map(n => n.tagName + '.' + n.className).slice(0, 5)"""


def make_activity(server: LiveServer) -> dict[str, Any]:
    """Four askers, a moderator's approvals, a rejection, a merge, an edit and an answer, two
    upvoters, three poll voters; returns what the report must count."""
    moderator = Person(server)
    moderator.login(MODERATOR_KEY)
    askers = [Person(server) for _ in range(4)]
    texts = ["Battery recycling plans?", "Hydrogen trucks by 2030?", "Battery recycling: what plans?", "=SPAM"]
    ids = [
        a.ok("main", {"type": "ask_question", "text": t})["question"]["id"] for a, t in zip(askers, texts, strict=True)
    ]
    for question_id in ids[:3]:
        moderator.ok("main", {"type": "moderate_question", "question_id": question_id, "action": "approve"})
    moderator.ok("main", {"type": "moderate_question", "question_id": ids[3], "action": "dismiss"})
    moderator.ok("main", {"type": "merge_questions", "question_id": ids[0], "duplicate_ids": [ids[2]]})
    moderator.ok(
        "main", {"type": "edit_question", "question_id": ids[1], "text": "Will hydrogen trucks be cheap by 2030?"}
    )
    upvoters = [Person(server) for _ in range(2)]
    for person in upvoters:
        person.ok("main", {"type": "upvote", "question_id": ids[1]})
    upvoters[0].ok("main", {"type": "upvote", "question_id": ids[0]})
    moderator.ok("main", {"type": "moderate_question", "question_id": ids[0], "action": "mark_answered"})
    poll = {"type": "create_poll", "kind": "single_choice", "question": "Tea or coffee?", "options": ["Tea", "Coffee"]}
    poll_id = moderator.ok("main", poll)["poll_id"]
    moderator.ok("main", {"type": "change_poll", "poll_id": poll_id, "action": "open"})
    # Voters: one of the askers, one of the upvoters, and a newcomer.
    for person, choice in ((askers[0], "Tea"), (upvoters[1], "Coffee"), (Person(server), "Coffee")):
        person.ok("main", {"type": "vote_poll", "poll_id": poll_id, "choices": [choice]})
    return {
        "asked": 4, "approved": 3, "answered": 1, "participants": 4 + 2 + 1, "askers": 4, "voters": 3,
        "upvoters": 2, "approvals": 3, "rejections": 1, "merges": 1, "edits": 1,
        "top": [(2, "Will hydrogen trucks be cheap by 2030?"), (1, "Battery recycling plans?")],
        "poll": (poll_id, {"Tea": 1, "Coffee": 2}),
    }  # fmt: skip


def until(condition: Callable[[], Any], seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("the condition was not met in time")


def figure(page: Page, name: str) -> str:
    return page.locator(f'[data-room="main"] [data-figure="{name}"]').first.inner_text()


def test_report_counts_what_happened(start_live: Callable[..., LiveServer], browser: Browser) -> None:  # noqa: F811
    server = start_live(extra=("--sample-interval", "0.5"))
    watch = Watch()
    admin = watch.page(browser, server, viewport={"width": 1440, "height": 900})
    admin.context.add_init_script(LISTEN)  # the page under the CSP: uPlot must not need inline styles
    log_in(admin, ADMIN_KEY, "/admin")
    admin.get_by_role("link", name="Engagement report").click()
    expect(admin).to_have_url(re.compile(r"/admin/report$"))

    viewers = [watch.page(browser, server) for _ in range(VIEWERS)]
    for page in viewers:
        page.goto("/r/main")
        expect(page.locator("#live-status")).to_have_text("Live")
    expected = make_activity(server)

    def peak() -> int:
        data = admin.request.get("/api/rooms/main/report.json").json()
        return int(data["rooms"][0]["viewers"]["peak"]["connections"])

    until(lambda: peak() >= VIEWERS)  # a sample saw them: the sampler stores one every 0.5 s
    for page in viewers:
        page.close()

    admin.goto("/admin/report/main")
    assert figure(admin, "peak-connections") == str(VIEWERS)
    for name in ("asked", "approved", "answered", "participants", "askers", "voters", "upvoters",
                 "approvals", "rejections", "merges", "edits"):  # fmt: skip
        assert figure(admin, name) == str(expected[name]), name
    top = admin.locator('[data-room="main"] .report-top li')
    assert [
        (int(li.locator(".report-votes").inner_text()), li.locator("span[dir]").inner_text()) for li in top.all()
    ] == (expected["top"])
    poll_id, tally = expected["poll"]
    poll = admin.locator(f'[data-poll="{poll_id}"]')
    assert poll.locator('[data-figure="ballots"]').inner_text() == "3"
    for option, count in tally.items():
        assert poll.locator(f'[data-option="{option}"] [data-figure="count"]').inner_text() == str(count)
    expect(admin.locator('[data-chart="viewers"] canvas')).to_have_count(1)  # drawn by uPlot
    expect(admin.locator('[data-chart="questions"] canvas')).to_have_count(1)
    assert admin.evaluate("() => window.__violations") == []

    # The same figures as JSON and CSV (what the page's links download).
    json_link = admin.locator("#report-json").get_attribute("href")
    csv_link = admin.locator("#report-csv").get_attribute("href")
    room = admin.request.get(json_link or "").json()["rooms"][0]
    assert room["viewers"]["peak"]["connections"] == VIEWERS
    assert room["questions"]["totals"] == {k: expected[k] for k in ("asked", "approved", "answered")}
    assert room["participation"]["participants"] == expected["participants"]
    assert room["moderation"]["total"]["rejected"] == expected["rejections"]
    assert {p["poll_id"]: p["tally"] for p in room["polls"]} == {poll_id: tally}
    rows = list(csv.DictReader(io.StringIO(admin.request.get(csv_link or "").text().lstrip("\ufeff"))))
    value = {(r["section"], r["name"]): r["value"] for r in rows if not r["at"]}
    assert value[("peak_viewers", "connections")] == str(VIEWERS)
    assert value[("questions_total", "asked")] == "4" and value[("participation", "voted")] == "3"
    assert value[("moderation_total", "merged")] == "1" and value[("poll", "Tea or coffee? / Coffee")] == "2"
    assert [r["name"] for r in rows if r["section"] == "top_question"] == [text for _, text in expected["top"]]

    # Screen and print, in both languages; printed, nothing is wider than an A4 page.
    for language in ("en", "zh-CN"):
        admin.set_viewport_size({"width": 1440, "height": 900})
        admin.emulate_media(media="screen")
        admin.goto(f"/admin/report/main?lang={language}")
        admin.screenshot(path=SHOTS / f"report-{language}.png", full_page=True)
        admin.set_viewport_size({"width": 1024, "height": 768})
        assert admin.evaluate(OVERFLOWING) == [], language
        admin.screenshot(path=SHOTS / f"report-1024-{language}.png")
        admin.set_viewport_size({"width": A4_WIDTH, "height": 1000})
        admin.emulate_media(media="print")
        admin.goto(f"/admin/report/main?lang={language}")
        assert admin.evaluate(OVERFLOWING) == [], language
        assert admin.evaluate("() => document.documentElement.scrollWidth") <= A4_WIDTH
        for canvas in admin.locator("canvas").all():
            box = canvas.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= A4_WIDTH
        admin.screenshot(path=SHOTS / f"report-print-{language}.png", full_page=True)
        pdf = admin.pdf(path=str(SHOTS / f"report-{language}.pdf"), format="A4", print_background=True)
        assert pdf.startswith(b"%PDF")
    admin.emulate_media(media="print")  # every room, one after the other: none wider than the page either
    admin.goto("/admin/report?lang=en")
    expect(admin.locator(".report-room")).to_have_count(8)
    assert admin.evaluate(OVERFLOWING) == []
    admin.pdf(path=str(SHOTS / "report-all-rooms-en.pdf"), format="A4", print_background=True)
    assert watch.errors == [] and watch.dialogs == []


def test_report_is_for_the_admin_only(start_live: Callable[..., LiveServer], browser: Browser) -> None:  # noqa: F811
    server = start_live()
    watch = Watch()
    page = watch.page(browser, server)
    page.goto("/admin/report")
    expect(page).to_have_url(re.compile(r"/login\?next=/admin/report$"))
    page.get_by_label("Access key").fill(MODERATOR_KEY)  # a moderator of every room is still not the admin
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/login\?next=/admin/report$"))
    assert page.request.get("/api/report.json").status == 403
    assert page.request.get("/api/rooms/main/report.csv").status == 403
    log_in(page, ADMIN_KEY, "/admin/report")
    assert page.request.get("/api/report.json").status == 200
    assert page.request.get("/api/report.json?day=tomorrow").json()["error"]["code"] == "invalid"
    response = page.goto("/admin/report?day=tomorrow")
    assert response is not None and response.status == 400
    expect(page.locator("#report-problem")).to_contain_text("'tomorrow' is not a day")
    page.goto("/admin/report?session=main/20230919-0900")  # a session: its room's report
    expect(page.locator(".report-room")).to_have_count(1)
    expect(page.locator("#report-session option:checked")).to_have_attribute("value", "main/20230919-0900")
    options = page.locator("#report-session option")  # still every room's sessions to choose from
    assert options.count() > page.locator('#report-session option[value^="main/"]').count() > 0
    assert watch.errors == []
