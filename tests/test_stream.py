"""The live stream over WebSocket against a real ``live serve``: snapshot, events, resume, reload,
restart, bad input, and dead-client detection (served in the test process), and several
processes on one Redis (separate processes, as in production)."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Callable

import httpx

from .conftest import METRICS_KEY, MODERATOR_KEY, LiveServer, RedisServer
from .livetools import Person, until

METRICS_AUTH = {"authorization": f"Bearer {METRICS_KEY}"}

StartLive = Callable[..., LiveServer]


async def test_viewer_snapshot_hides_what_is_not_public(serve_live: StartLive) -> None:
    server = serve_live()
    asker, other, moderator = Person(server), Person(server), Person(server)
    moderator.login(MODERATOR_KEY)
    pending = asker.ok("main", {"type": "ask_question", "text": "Pending question"})["question"]
    assert pending["status"] == "pending"

    other_stream = await other.connect("main")
    snapshot = await other_stream.receive()
    assert snapshot["type"] == "snapshot"
    assert snapshot["room"]["questions"] == []  # someone else's pending question is not sent
    asker_stream = await asker.connect("main")
    own = (await asker_stream.receive())["mine"]
    assert [q["text"] for q in own["pending"]] == ["Pending question"]
    moderator_stream = await moderator.connect("main", role="moderator")
    questions = (await moderator_stream.receive())["room"]["questions"]
    assert [(q["text"], q["author_id"]) for q in questions] == [
        ("Pending question", asker.http.get("/api/me").json()["participant_id"])
    ]

    moderator.ok("main", {"type": "moderate_question", "question_id": pending["id"], "action": "approve"})
    event = await other_stream.receive()
    assert event["type"] == "question" and event["question"]["text"] == "Pending question"
    assert "author_id" not in event["question"]  # viewers never learn who asked
    assert event["offset"] == snapshot["offset"] + 1 and event["epoch"] == snapshot["epoch"]
    for stream in (other_stream, asker_stream, moderator_stream):
        await stream.close()


async def test_resume_delivers_exactly_the_missed_events(serve_live: StartLive) -> None:
    server = serve_live()
    viewer, moderator = Person(server), Person(server)
    moderator.login(MODERATOR_KEY)
    moderator.ok("main", {"type": "set_moderation", "mode": "post"})
    stream = await viewer.connect("main")
    snapshot = await stream.receive()
    epoch, offset = snapshot["epoch"], snapshot["offset"]
    await stream.close()

    asked = [moderator.ok("main", {"type": "ask_question", "text": f"missed {n}"})["question"]["id"] for n in range(3)]
    viewer.ok("main", {"type": "upvote", "question_id": asked[0]})
    moderator.ok("main", {"type": "moderate_question", "question_id": asked[1], "action": "dismiss"})

    resumed = await viewer.connect("main", epoch=epoch, offset=offset)
    messages = await resumed.receive_until("counters")
    assert [m["type"] for m in messages] == ["question", "question", "question", "question_removed", "counters"]
    assert [m["offset"] for m in messages[:4]] == [offset + 1, offset + 2, offset + 3, offset + 5]
    assert [m["question"]["text"] for m in messages[:3]] == ["missed 0", "missed 1", "missed 2"]
    assert messages[-1]["votes"] == {asked[0]: 1, asked[2]: 0}  # the upvote arrives as a counter
    assert messages[-1]["offset"] == offset + 5
    assert await resumed.quiet() == []  # nothing more, nothing twice
    await resumed.close()

    stale = await viewer.connect("main", epoch="an-old-epoch", offset=3)
    reload, fresh = await stale.receive(), await stale.receive()
    assert reload == {"type": "reload", "reason": "epoch"}
    assert fresh["type"] == "snapshot"
    await stale.quiet()  # a room view a moment old may be followed by the events since it
    assert stale.position == (snapshot["epoch"], offset + 5)
    await stale.close()


async def test_accepted_data_survives_a_restart(serve_live: StartLive, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    server = serve_live(data_dir=data)
    viewer, moderator = Person(server), Person(server)
    moderator.login(MODERATOR_KEY)
    question = viewer.ok("main", {"type": "ask_question", "text": "Will it survive?"})["question"]
    moderator.ok("main", {"type": "moderate_question", "question_id": question["id"], "action": "approve"})
    viewer.ok("main", {"type": "upvote", "question_id": question["id"]})
    stream = await viewer.connect("main")
    snapshot = await stream.receive()
    await stream.close()
    server.stop()

    server.start()  # same port, same data directory
    after = Person(server)
    live = after.http.get("/api/rooms/main").json()["live"]
    assert [(q["text"], q["votes"], q["status"]) for q in live["questions"]] == [("Will it survive?", 1, "live")]
    assert (live["epoch"], live["offset"]) == (snapshot["epoch"], snapshot["offset"])
    resumed = await viewer.connect("main", epoch=snapshot["epoch"], offset=snapshot["offset"])
    assert (await resumed.receive())["type"] == "counters"  # resumed across the restart, nothing missed
    await resumed.close()


async def test_two_processes_on_one_redis_share_the_room(start_live: StartLive, redis_server: RedisServer) -> None:
    first = start_live(redis_url=redis_server.url)
    second = start_live(redis_url=redis_server.url)
    assert httpx.get(f"{second.url}/healthz").json() == {
        "engine": "redis",
        "redis": f"redis://127.0.0.1:{redis_server.port}/0",
        "redis_reachable": True,
        "ok": True,
    }
    watcher = Person(second)
    stream = await watcher.connect("industry-chain")
    await stream.receive()
    moderator = Person(first)
    moderator.login(MODERATOR_KEY)
    asked = moderator.ok("industry-chain", {"type": "ask_question", "text": "Asked on the first process"})
    if asked["question"]["status"] == "pending":
        moderator.ok(
            "industry-chain", {"type": "moderate_question", "question_id": asked["question"]["id"], "action": "approve"}
        )
    event = await stream.receive_until("question")
    assert event[-1]["question"]["text"] == "Asked on the first process"
    await stream.close()


async def test_bad_input_gets_a_clear_error_and_changes_nothing(serve_live: StartLive) -> None:
    server = serve_live()
    viewer = Person(server)
    stream = await viewer.connect("main")
    before = await stream.receive()

    await stream.send("{not json")
    assert (await stream.receive())["code"] == "bad_json"
    await stream.send({"type": "shout"})
    assert (await stream.receive())["code"] == "unknown_type"
    await stream.send("x" * 20_000)
    assert (await stream.receive())["code"] == "too_large"
    await stream.socket.send(b"\x00\x01")
    assert (await stream.receive())["code"] == "invalid"
    await stream.send({"type": "command", "ref": "a", "command": {"type": "set_moderation", "mode": "post"}})
    forged = await stream.receive()
    assert (forged["code"], forged["ref"]) == ("forbidden", "a")
    await stream.send({"type": "command", "ref": "b", "command": {"type": "ask_question", "text": 42}})
    assert (await stream.receive())["code"] == "invalid"
    await stream.send(
        {"type": "command", "ref": "c", "command": {"type": "ask_question", "text": "ok", "role": "admin"}}
    )
    assert (await stream.receive())["code"] == "invalid"
    await stream.send({"type": "ping", "ref": "still-there"})
    assert await stream.receive() == {"type": "pong", "ref": "still-there"}  # the connection keeps working
    await stream.close()

    assert viewer.http.get("/api/rooms/main").json()["live"]["offset"] == before["offset"]
    assert (
        viewer.command("main", {"type": "moderate_question", "question_id": "x", "action": "approve"}).status_code
        == 403
    )
    assert viewer.command("nowhere", {"type": "ask_question", "text": "hi"}).status_code == 404
    malformed = viewer.http.post("/api/rooms/main/commands", content=b"{", headers={"content-type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "invalid"
    assert viewer.http.get("/api/rooms/main").json()["live"]["offset"] == before["offset"]

    wrong_room = await viewer.connect("nowhere")
    assert (await wrong_room.receive())["code"] == "not_found"
    wrong_role = await viewer.connect("main", role="moderator")
    assert (await wrong_role.receive())["code"] == "forbidden"
    assert httpx.get(f"{server.url}/healthz").status_code == 200  # the server keeps working


async def test_server_pings_drop_a_dead_client(serve_live: StartLive) -> None:
    server = serve_live(extra=("--ws-ping-interval", "0.3", "--ws-ping-timeout", "0.3"))
    # A client that completes the handshake and then never reads or answers a ping again.
    dead = socket.create_connection(("127.0.0.1", server.port))
    dead.sendall(
        b"GET /ws/rooms/main HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    assert b"101" in dead.recv(1024).split(b"\r\n")[0]

    def connections() -> int:
        rooms = httpx.get(f"{server.url}/api/event").json()["rooms"]
        return int(next(r for r in rooms if r["slug"] == "main")["connections"])

    assert connections() == 1
    await until(lambda: connections() == 0, timeout=5, what="the server to drop the dead client")
    dead.close()


async def test_redis_restart_keeps_data_and_the_processes_recover(
    start_live: StartLive, own_redis: RedisServer
) -> None:
    first = start_live(redis_url=own_redis.url)
    second = start_live(redis_url=own_redis.url)
    moderator = Person(first)
    moderator.login(MODERATOR_KEY)
    kept = moderator.ok("main", {"type": "ask_question", "text": "Before the restart"})["question"]
    watcher = Person(second)
    stream = await watcher.connect("main", role="viewer")
    await stream.receive()

    own_redis.stop()
    assert httpx.get(f"{first.url}/healthz").json()["redis_reachable"] is False
    refused = moderator.command("main", {"type": "ask_question", "text": "While Redis is down"})
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "unavailable"
    own_redis.start()  # same port, same append-only file

    await until(lambda: httpx.get(f"{first.url}/healthz").status_code == 200, what="Redis to be reachable again")
    moderator.ok("main", {"type": "moderate_question", "question_id": kept["id"], "action": "approve"})
    event = await stream.receive_until("question", timeout=10)  # the second process resubscribed
    assert event[-1]["question"]["text"] == "Before the restart"
    await stream.close()

    third = start_live(redis_url=own_redis.url)  # a fresh process rebuilds the room from Redis
    questions = Person(third).http.get("/api/rooms/main").json()["live"]["questions"]
    assert [q["text"] for q in questions] == ["Before the restart"]


async def test_api_errors_are_json_everywhere(serve_live: StartLive) -> None:
    server = serve_live()
    unknown = httpx.get(f"{server.url}/api/nothing-here")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    wrong_method = httpx.get(f"{server.url}/api/rooms/main/commands")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "invalid"
    huge = Person(server).http.post(
        "/api/rooms/main/commands", content=b"x" * 20_000, headers={"content-type": "application/json"}
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "too_large"


async def test_planned_polls_are_ready_once_and_after_vote_results_follow_the_vote(
    serve_live: StartLive, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "planned"
    server = serve_live(data_dir=data)
    moderator, viewer, other = Person(server), Person(server), Person(server)
    moderator.login(MODERATOR_KEY)
    polls = moderator.http.get("/api/rooms/hydrogen-storage?as=moderator").json()["live"]["polls"]
    assert [(p["kind"], p["status"]) for p in polls] == [("single_choice", "draft"), ("open_text", "draft")]
    assert viewer.http.get("/api/rooms/hydrogen-storage").json()["live"]["polls"] == []  # drafts are private
    server.stop()
    server.start()  # a restart does not prepare them again
    polls = moderator.http.get("/api/rooms/hydrogen-storage?as=moderator").json()["live"]["polls"]
    assert len(polls) == 2
    choice = polls[0]
    moderator.ok("hydrogen-storage", {"type": "change_poll", "poll_id": choice["id"], "action": "open"})
    assert viewer.http.get("/api/rooms/hydrogen-storage").json()["live"]["polls"][0]["tally"] is None
    reply = viewer.ok(
        "hydrogen-storage", {"type": "vote_poll", "poll_id": choice["id"], "choices": [choice["options"][1]]}
    )
    assert reply["tally"][choice["options"][1]] == 1  # the voter sees the results at once
    assert (
        viewer.http.get("/api/rooms/hydrogen-storage").json()["live"]["mine"]["tallies"][choice["id"]][
            choice["options"][1]
        ]
        == 1
    )
    assert other.http.get("/api/rooms/hydrogen-storage").json()["live"]["mine"]["tallies"] == {}


async def test_a_client_that_stops_reading_is_dropped_and_the_others_keep_up(serve_live: StartLive) -> None:
    server = serve_live(extra=("--outbox-limit", "20"))  # 20 KiB of backlog at most, for a short test
    moderator, reader = Person(server), Person(server)
    moderator.login(MODERATOR_KEY)
    moderator.ok("main", {"type": "set_moderation", "mode": "post"})
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a phone that stops reading
    stuck.connect(("127.0.0.1", server.port))
    stuck.sendall(
        b"GET /ws/rooms/main HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    stream = await reader.connect("main")
    await stream.receive()

    def connections() -> int:
        rooms = httpx.get(f"{server.url}/api/event").json()["rooms"]
        return int(next(r for r in rooms if r["slug"] == "main")["connections"])

    assert connections() == 2
    resyncs_before = slow_client_resyncs(server)
    text = "氢能与储能的长问题，填满一个不再读取的客户端的缓冲区。" * 18  # about 1.4 KB per event
    received: list[int] = []  # the numbers of the questions the reading client got, in order

    def take(message: dict[str, object]) -> None:
        if message["type"] == "question":
            received.append(int(str(message["question"]["text"]).split()[0]))  # type: ignore[index]

    for n in range(500):
        moderator.ok("main", {"type": "ask_question", "text": f"{n} {text}"[:500]})
        while True:
            try:
                take(await stream.receive(timeout=0.001))
            except TimeoutError:
                break
    while len(received) < 500:  # the rest, each within a deadline
        take(await stream.receive(timeout=5))
    assert received == list(range(500))  # the reading client missed nothing, in order, nothing twice
    assert slow_client_resyncs(server) == resyncs_before + 1  # the stuck one was told to resync, once
    # cut after a short grace (CLOSE_GRACE), since it will not read its last messages
    await until(lambda: connections() == 1, timeout=10, what="only the reader to be left")
    stuck.close()
    await stream.close()


def slow_client_resyncs(server: LiveServer) -> float:
    """The resync counter as /metrics shows it (shared by every server in this process)."""
    text = httpx.get(f"{server.url}/metrics", headers=METRICS_AUTH).text
    found = re.search(r'^live_resyncs_total\{reason="slow_client"\} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_a_burst_of_votes_gives_a_screen_few_updates_and_exact_counts(serve_live: StartLive) -> None:
    from .conftest import SCREEN_KEY

    server = serve_live()
    moderator, screen = Person(server), Person(server)
    moderator.login(MODERATOR_KEY)
    screen.login(SCREEN_KEY)
    poll_id = moderator.ok(
        "main", {"type": "create_poll", "kind": "single_choice", "question": "Which?", "options": ["A", "B", "C"]}
    )["poll_id"]
    moderator.ok("main", {"type": "change_poll", "poll_id": poll_id, "action": "open"})
    stream = await screen.connect("main", role="screen")
    await stream.receive()
    await stream.quiet(0.5)
    voters = [Person(server) for _ in range(120)]
    started = asyncio.get_running_loop().time()
    for n, voter in enumerate(voters):
        voter.ok("main", {"type": "vote_poll", "poll_id": poll_id, "choices": ["ABC"[n % 3]]})
    seconds = asyncio.get_running_loop().time() - started
    updates: list[dict[str, object]] = []
    while not updates or updates[-1]["polls"][poll_id]["ballots"] < 120:  # type: ignore[index]
        message = await stream.receive(timeout=5)  # until the last vote is counted, within a deadline
        if message["type"] == "counters":
            updates.append(message)
    assert len(updates) <= seconds * 4 + 3  # conflated: at most ~4 a second, not 120
    assert updates[-1]["polls"][poll_id] == {"ballots": 120, "tally": {"A": 40, "B": 40, "C": 40}}
    moderator.ok("main", {"type": "change_poll", "poll_id": poll_id, "action": "close"})
    closed = await stream.receive_until("poll")
    assert closed[-1]["poll"]["tally"] == {"A": 40, "B": 40, "C": 40}  # exact at close
    await stream.close()


async def test_commands_on_an_open_stream_carry_the_name_saved_since_it_opened(serve_live: StartLive) -> None:
    server = serve_live()
    asker, moderator = Person(server), Person(server)
    moderator.login(MODERATOR_KEY)
    moderator.ok("main", {"type": "set_moderation", "mode": "post"})
    asker.http.post("/api/me", json={"display_name": "Ann"}).raise_for_status()
    stream = await asker.connect("main")
    assert (await stream.receive())["type"] == "snapshot"
    for name, text in (("Ann", "Asked under the handshake's name?"), ("Bea 贝", "Asked after renaming?")):
        if name != "Ann":
            asker.http.post("/api/me", json={"display_name": name}).raise_for_status()
        await stream.send({"type": "command", "ref": text, "command": {"type": "ask_question", "text": text}})
        seen = await stream.receive_until("question")
        assert seen[-1]["question"]["author_name"] == name, seen
    await stream.close()
