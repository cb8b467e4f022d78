"""Everything a viewer sends is hostile: markup, huge or invisible text, other scripts, forged
moderator commands and vote stuffing, sent to a real server (run in the test process). Nothing
may run, leak or change."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from .conftest import ADMIN_KEY, MODERATOR_KEY, LiveServer
from .livetools import Person

StartLive = Callable[..., LiveServer]

HOSTILE = [
    '<script>alert("x")</script><img src=x onerror=alert(1)>',
    "Emoji 🚗⚡️👩‍🔬 and ZWJ sequences",
    "مرحبا، كيف يصل قطاع السيارات إلى الحياد الكربوني؟",  # right-to-left
    "汽车行业如何实现碳中和？氢能与储能的前景如何？",
    "'; DROP TABLE questions; --",
    '=HYPERLINK("http://evil.example")',
]


async def test_hostile_text_is_kept_as_text_and_escaped_everywhere(serve_live: StartLive) -> None:
    server = serve_live()
    viewer, moderator, admin = Person(server), Person(server), Person(server)
    moderator.login(MODERATOR_KEY)
    admin.login(ADMIN_KEY)
    moderator.ok("main", {"type": "set_moderation", "mode": "post"})
    ids = []
    for text in HOSTILE:
        asker = Person(server)  # each its own participant: asking is rate-limited per person
        ids.append(asker.ok("main", {"type": "ask_question", "text": text})["question"]["id"])
    flipped = viewer.ok("main", {"type": "ask_question", "text": "abc\u202edef\u2066"})["question"]
    assert flipped["text"] == "abcdef"  # bidi overrides removed, so no one can reverse text around theirs
    stored = {q["id"]: q["text"] for q in viewer.http.get("/api/rooms/main").json()["live"]["questions"]}
    assert [stored[i] for i in ids] == HOSTILE  # byte for byte, nothing "sanitised" away

    moderator.ok("main", {"type": "highlight_question", "question_id": ids[0]})
    page = admin.http.get("/admin").text  # a server-rendered page that shows the question
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    csv = moderator.http.get("/api/rooms/main/export.csv").text
    assert "'=HYPERLINK" in csv  # a spreadsheet will not run it as a formula


async def test_oversized_and_empty_questions_are_refused(serve_live: StartLive) -> None:
    server = serve_live()
    viewer = Person(server)
    before = viewer.http.get("/api/rooms/main").json()["live"]["offset"]
    for text in ("x" * 501, "   ", "\u200b\u200b", ""):
        response = viewer.command("main", {"type": "ask_question", "text": text})
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    response = viewer.command("main", {"type": "ask_question", "text": "y" * 5000})
    assert response.status_code == 400
    assert viewer.http.get("/api/rooms/main").json()["live"]["offset"] == before


async def test_forged_moderator_commands_change_nothing(serve_live: StartLive) -> None:
    server = serve_live()
    asker, forger = Person(server), Person(server)
    question = asker.ok("main", {"type": "ask_question", "text": "Pending, please"})["question"]
    after_asking = asker.http.get("/api/rooms/main").json()["live"]["offset"]
    forged = [
        {"type": "moderate_question", "question_id": question["id"], "action": "approve"},
        {"type": "moderate_questions", "question_ids": [question["id"]], "action": "dismiss"},
        {"type": "highlight_question", "question_id": question["id"]},
        {"type": "edit_question", "question_id": question["id"], "text": "pwned"},
        {"type": "set_moderation", "mode": "post"},
        {"type": "create_poll", "kind": "rating", "question": "?"},
        {"type": "move_question", "question_id": question["id"], "to_room": "industry-chain"},
        {"type": "receive_question", "question": question, "voters": [], "from_room": "x"},
    ]
    for command in forged:
        response = forger.command("main", command)
        assert response.status_code in (400, 403), command
    stream = await forger.connect("main")
    await stream.receive()
    await stream.send({"type": "command", "ref": 1, "command": forged[0]})
    assert (await stream.receive())["code"] == "forbidden"
    await stream.close()
    forger.http.cookies.set("live_session", "forged.cookie.value")  # a tampered cookie is just ignored
    assert forger.command("main", forged[0]).status_code == 403
    assert forger.http.get("/api/rooms/main").json()["live"]["offset"] == after_asking
    moderator = Person(server)
    moderator.login(MODERATOR_KEY)
    (seen,) = moderator.http.get("/api/rooms/main?as=moderator").json()["live"]["questions"]
    assert (seen["status"], seen["text"]) == ("pending", "Pending, please")
    assert httpx.get(f"{server.url}/api/admin/overview").status_code == 403
    assert forger.http.get("/api/export.csv").status_code == 403


async def test_vote_stuffing_from_one_participant_counts_once(serve_live: StartLive) -> None:
    server = serve_live()
    moderator, stuffer = Person(server), Person(server)
    moderator.login(MODERATOR_KEY)
    moderator.ok("main", {"type": "set_moderation", "mode": "post"})
    question = moderator.ok("main", {"type": "ask_question", "text": "Stuff me"})["question"]
    statuses = [
        stuffer.command("main", {"type": "upvote", "question_id": question["id"]}).status_code for _ in range(30)
    ]
    assert statuses.count(200) >= 1 and set(statuses) <= {200, 429}
    assert 429 in statuses  # hammering is rate-limited with a clear error
    limited = stuffer.command("main", {"type": "upvote", "question_id": question["id"]})
    assert limited.status_code == 429 and "try again in" in limited.json()["error"]["message"]
    votes = stuffer.http.get("/api/rooms/main").json()["live"]["questions"][0]["votes"]
    assert votes == 1


async def test_asking_is_rate_limited_per_participant(serve_live: StartLive) -> None:
    server = serve_live()
    viewer, other = Person(server), Person(server)
    responses = [viewer.command("main", {"type": "ask_question", "text": f"question {n}"}) for n in range(5)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
    limited = responses[-1]  # says how long to wait, for the page (in its language) and for HTTP clients
    seconds = limited.json()["error"]["retry_after"]
    assert isinstance(seconds, int) and seconds >= 1 and limited.headers["retry-after"] == str(seconds)
    assert other.command("main", {"type": "ask_question", "text": "someone else"}).status_code == 200
    stream = await viewer.connect("main")
    await stream.send({"type": "command", "ref": 7, "command": {"type": "ask_question", "text": "again"}})
    error = (await stream.receive_until("error"))[-1]
    assert error["code"] == "rate_limited" and error["ref"] == 7 and error["retry_after"] >= 1


async def test_the_event_files_word_filter_holds_questions_for_a_moderator(serve_live: StartLive) -> None:
    server = serve_live()
    moderator, viewer, other = Person(server), Person(server), Person(server)
    moderator.login(MODERATOR_KEY)
    moderator.ok("main", {"type": "set_moderation", "mode": "post"})
    held = viewer.ok("main", {"type": "ask_question", "text": "优惠代开发票，加微信"})["question"]
    fine = other.ok("main", {"type": "ask_question", "text": "氢能汽车的补贴政策？"})["question"]
    assert (held["status"], fine["status"]) == ("pending", "live")
    queue = {q["id"]: q for q in moderator.http.get("/api/rooms/main?as=moderator").json()["live"]["questions"]}
    assert queue[held["id"]]["flags"] == ["word_filter"]
    public = [q["id"] for q in other.http.get("/api/rooms/main").json()["live"]["questions"]]
    assert public == [fine["id"]]


async def test_a_client_without_an_identity_cannot_vote_again_and_again(serve_live: StartLive) -> None:
    import websockets

    server = serve_live()
    moderator = Person(server)
    moderator.login(MODERATOR_KEY)
    moderator.ok("main", {"type": "set_moderation", "mode": "post"})
    question = moderator.ok("main", {"type": "ask_question", "text": "Stuff me without cookies"})["question"]
    for _ in range(3):  # a script that never keeps the cookie: each socket would be a new voter
        async with websockets.connect(f"{server.ws_url}/ws/rooms/main") as socket:
            await socket.recv()
            await socket.send(
                json.dumps({"type": "command", "ref": 1, "command": {"type": "upvote", "question_id": question["id"]}})
            )
            reply = json.loads(await socket.recv())
            assert reply["code"] == "no_identity"
    plain = httpx.post(f"{server.url}/api/rooms/main/commands", json={"type": "upvote", "question_id": question["id"]})
    assert plain.status_code == 403 and plain.json()["error"]["code"] == "no_identity"
    assert moderator.http.get("/api/rooms/main").json()["live"]["questions"][0]["votes"] == 0


async def test_json_nested_thousands_deep_is_refused_cleanly(serve_live: StartLive) -> None:
    server = serve_live()
    viewer = Person(server)
    deep = viewer.http.post(
        "/api/rooms/main/commands", content=b"[" * 5000, headers={"content-type": "application/json"}
    )
    assert deep.status_code == 400
    stream = await viewer.connect("main")
    await stream.receive()
    await stream.send("[" * 5000)
    assert (await stream.receive())["code"] == "bad_json"
    await stream.send({"type": "ping", "ref": 1})
    assert (await stream.receive())["type"] == "pong"  # still connected
    await stream.close()


async def test_changing_a_key_ends_the_sessions_it_opened(serve_live: StartLive, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = serve_live(data_dir=tmp_path / "keys")
    moderator = Person(server)
    moderator.login(MODERATOR_KEY)
    assert moderator.command("main", {"type": "set_moderation", "mode": "post"}).status_code == 200
    server.stop()
    server.environment = {"LIVE_MODERATOR_KEY": "a-new-key-after-a-leak"}
    server.start()  # same data, same cookie secret: only the moderator key changed
    assert moderator.command("main", {"type": "set_moderation", "mode": "pre"}).status_code == 403
    assert moderator.http.get("/api/me").json()["grants"] == []
    assert moderator.http.post("/api/login", json={"key": MODERATOR_KEY}).status_code == 403
    moderator.login("a-new-key-after-a-leak")
    assert moderator.command("main", {"type": "set_moderation", "mode": "pre"}).status_code == 200


async def test_disguised_blocked_words_and_names_are_caught_and_moderator_marks_stay_private(
    start_live: StartLive,
) -> None:
    server = start_live()
    moderator, viewer, named = Person(server), Person(server), Person(server)
    moderator.login(MODERATOR_KEY)
    moderator.ok("main", {"type": "set_moderation", "mode": "post"})
    held = viewer.ok("main", {"type": "ask_question", "text": "Cheap sp\u00adam and \u0441asino"})["question"]
    assert held["status"] == "pending"  # a soft hyphen and a Cyrillic "с" hide nothing
    assert named.ok("main", {"type": "ask_question", "text": "A fair question"}) is not None
    assert named.http.post("/api/me", json={"display_name": "King Sp\u200dam"}).status_code == 200
    refused = named.command("main", {"type": "ask_question", "text": "Another fair question"})
    assert refused.status_code == 400 and "name" in refused.json()["error"]["message"]

    fair = moderator.ok("main", {"type": "ask_question", "text": "What about trains?"})["question"]
    stream = await viewer.connect("main")
    await stream.receive_until("snapshot")
    moderator.ok("main", {"type": "star_question", "question_id": fair["id"], "starred": True})
    moderator.ok("main", {"type": "label_question", "question_id": fair["id"], "labels": ["later"]})
    moderator.ok("main", {"type": "edit_question", "question_id": fair["id"], "text": "What about trains?!"})
    heard = [m for m in await stream.receive_until("question") if m["type"] == "question"]
    assert [m["action"] for m in heard] == ["edited"]  # the star and the label were never announced
    await stream.close()

    poll = moderator.ok("main", {"type": "create_poll", "kind": "word_cloud", "question": "One word?"})["poll_id"]
    moderator.ok("main", {"type": "change_poll", "poll_id": poll, "action": "open"})
    viewer.ok("main", {"type": "vote_poll", "poll_id": poll, "choices": ["hydrogen", "ｓｐａｍ"]})
    public = {p["id"]: p for p in viewer.http.get("/api/rooms/main").json()["live"]["polls"]}
    assert public[poll]["tally"] == {"hydrogen": 1} and "held_words" not in public[poll]
    console = {p["id"]: p for p in moderator.http.get("/api/rooms/main?as=moderator").json()["live"]["polls"]}
    assert console[poll]["held_words"] == [{"word": "spam", "count": 1, "status": "held"}]
    moderator.ok("main", {"type": "moderate_word", "poll_id": poll, "word": "spam", "action": "allow"})
    public = {p["id"]: p for p in viewer.http.get("/api/rooms/main").json()["live"]["polls"]}
    assert public[poll]["tally"] == {"hydrogen": 1, "spam": 1}
