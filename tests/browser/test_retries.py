"""The pages when answers go missing (issue 12): a command whose answer is lost is sent again
with the same idempotency key and applied once, and reconnecting is prompt without a herd."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser.chromium import launch
from tests.conftest import MODERATOR_KEY, LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
Browser = sync_api.Browser
expect = sync_api.expect

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

# 5,000 viewers of a process that died at t=0; it is back at 5.5 s (as measured in the issue). Each
# tries at the delays the stream client draws (a refused try fails at once); when does each get back?
SCHEDULE = """async ([viewers, back]) => {
  const { reconnectDelay } = await import("/static/lib/stream.js");
  const reconnected = [], first = [];
  for (let v = 0; v < viewers; v++) {
    let t = 0, attempt = 0;
    do {
      t += reconnectDelay(attempt, t, Math.random);
      if (attempt++ === 0) first.push(t);
    } while (t < back);
    reconnected.push(t - back);
  }
  const busiest = (times) => {
    const buckets = new Map();
    times.forEach((t) => buckets.set(Math.floor(t / 100), (buckets.get(Math.floor(t / 100)) || 0) + 1));
    return Math.max(...buckets.values());
  };
  reconnected.sort((a, b) => a - b);
  return {
    busiest: busiest(reconnected), busiestFirst: busiest(first),
    median: reconnected[viewers >> 1], last: reconnected[viewers - 1],
  };
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch() as browser:
        yield browser


def test_reconnecting_is_prompt_without_a_herd(start_live: Callable[..., LiveServer], browser: Browser) -> None:
    """Before: tries after 0.5, 1, 2, 4 s (±25%) brought viewers back 2-3.5 s after the process."""
    server = start_live()
    page = browser.new_page(base_url=server.url)
    page.goto("/r/main")
    for _ in range(3):  # it is random: each run must hold
        schedule: dict[str, Any] = page.evaluate(SCHEDULE, [5000, 5500])
        assert schedule["median"] <= 1200 and schedule["last"] <= 3000, schedule  # ms after the process is back
        assert schedule["busiest"] <= 400, schedule  # of 5,000 in one 100 ms: at most 8%
        assert schedule["busiestFirst"] <= 300, schedule  # the first tries, e.g. at a sibling process
    page.close()


def staff_command(server: LiveServer, browser: Browser, body: dict[str, object]) -> dict[str, Any]:
    staff = browser.new_context(base_url=server.url).request
    assert staff.post("/login", form={"key": MODERATOR_KEY, "next": "/"}, max_redirects=0).status == 303
    response = staff.post("/api/rooms/main/commands", data=body)
    assert response.ok, response.text()
    room: dict[str, Any] = staff.get("/api/rooms/main?as=moderator").json()
    return room


def test_a_question_whose_answer_is_lost_is_sent_again_and_asked_once(
    start_live: Callable[..., LiveServer], browser: Browser
) -> None:
    server = start_live()
    context = browser.new_context(base_url=server.url, locale="en-US", **PHONE)  # type: ignore[arg-type]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    keys: list[str | None] = []

    def lose_the_first_answer(route: Any) -> None:
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.fetch()  # the server applies it...
            route.abort("connectionreset")  # ...and the page never hears so
        else:
            route.continue_()

    page.route(re.compile(r"/api/rooms/main/commands$"), lose_the_first_answer)
    page.goto("/r/main")
    expect(page.locator("#live-status")).to_have_text("Live")
    page.get_by_label("Your question").fill("Asked once, though the answer was lost?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#notices")).to_contain_text("No answer from the server yet: trying again…")
    expect(page.locator("#ask-feedback")).to_have_text("Your question was sent.", timeout=15_000)
    assert len(keys) == 2 and keys[0] == keys[1] and re.fullmatch(r"[0-9a-f]{32}", keys[0] or ""), keys
    room = staff_command(server, browser, {"type": "set_moderation", "mode": "pre"})
    texts = [q["text"] for q in room["live"]["questions"]]
    assert texts.count("Asked once, though the answer was lost?") == 1, texts
    expect(page.locator(".question", has_text="Asked once, though the answer was lost?")).to_have_count(1)
    assert errors == []


def test_an_upvote_whose_ack_is_lost_with_the_connection_counts_once(
    start_live: Callable[..., LiveServer], browser: Browser
) -> None:
    server = start_live()
    staff_command(server, browser, {"type": "set_moderation", "mode": "post"})
    context = browser.new_context(base_url=server.url, locale="en-US", **PHONE)  # type: ignore[arg-type]
    page = context.new_page()
    sent: list[dict[str, Any]] = []
    dropped: list[str] = []
    answers: list[dict[str, Any]] = []  # acks and errors the page got

    def drop_the_first_ack(socket: Any) -> None:
        server_side = socket.connect_to_server()

        def from_page(message: str | bytes) -> None:
            data = json.loads(message)
            if data.get("type") == "command":
                sent.append(data)
            server_side.send(message)

        def from_server(message: str | bytes) -> None:
            data = json.loads(message)
            if data.get("type") == "ack" and not dropped:
                dropped.append(str(message))
                socket.close()  # the connection drops before the ack reaches the page
                return
            if data.get("type") in ("ack", "error"):
                answers.append(data)
            socket.send(message)

        socket.on_message(from_page)
        server_side.on_message(from_server)

    page.route_web_socket(re.compile(r"/ws/rooms/main"), drop_the_first_ack)
    page.goto("/r/main")
    expect(page.locator("#live-status")).to_have_text("Live")
    page.get_by_label("Your question").fill("Worth an upvote?")
    page.get_by_role("button", name="Send").click()
    card = page.locator(".question", has_text="Worth an upvote?")
    card.locator(".vote-button").click()
    expect(page.locator("#notices")).to_contain_text("No answer from the server yet: trying again…")
    expect(page.locator("#live-status")).to_have_text("Live", timeout=15_000)
    for _ in range(150):  # the retry goes out once the page is connected again, and is answered
        upvotes = [m for m in sent if m["command"]["type"] == "upvote"]
        if len(upvotes) >= 2 and any(a.get("ref") == upvotes[-1]["ref"] for a in answers):
            break
        page.wait_for_timeout(100)
    assert len(upvotes) == 2 and len({m["idempotency_key"] for m in upvotes}) == 1, upvotes
    answer = next(a for a in answers if a.get("ref") == upvotes[-1]["ref"])
    assert answer["type"] == "ack" and answer["result"]["votes"] == 1, answer  # the first outcome, again
    expect(page.locator("#notices .notice-error")).to_have_count(0)
    expect(card.locator(".vote-button")).to_have_attribute("aria-pressed", "true")
    expect(card.locator(".vote-count")).to_have_text("1")
    room = staff_command(server, browser, {"type": "set_moderation", "mode": "post"})
    assert [q["votes"] for q in room["live"]["questions"] if q["text"] == "Worth an upvote?"] == [1]
