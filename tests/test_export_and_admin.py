"""Export for the record, the admin's overview, and moving questions between rooms, through a
real server (in the test process) on each engine."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest

from .conftest import ADMIN_KEY, METRICS_KEY, MODERATOR_KEY, LiveServer, RedisServer
from .livetools import Person

StartLive = Callable[..., LiveServer]


@pytest.fixture(params=["embedded", "redis"])
def server(request: pytest.FixtureRequest, serve_live: StartLive) -> LiveServer:
    if request.param == "redis":
        own: RedisServer = request.getfixturevalue("own_redis")  # a fresh Redis: nothing shared between tests
        return serve_live(redis_url=own.url)
    return serve_live()


def test_export_has_every_field_a_record_needs(server: LiveServer) -> None:
    moderator, asker = Person(server), Person(server)
    moderator.login(MODERATOR_KEY)
    asker.http.post("/api/me", json={"display_name": "Lin 林"})
    question = asker.ok("main", {"type": "ask_question", "text": "导出测试 export?"})["question"]
    moderator.ok("main", {"type": "moderate_question", "question_id": question["id"], "action": "approve"})
    moderator.ok("main", {"type": "reply_to_question", "question_id": question["id"], "reply": "See the report"})
    moderator.ok("main", {"type": "moderate_question", "question_id": question["id"], "action": "mark_answered"})

    data = moderator.http.get("/api/rooms/main/export.json").json()["questions"]
    row = next(r for r in data if r["id"] == question["id"])
    assert row["text"] == "导出测试 export?" and row["author_name"] == "Lin 林" and row["status"] == "answered"
    assert row["reply"] == "See the report" and row["asked_at"].endswith("+08:00") and row["answered_at"]
    assert "author_id" not in row
    text = moderator.http.get("/api/rooms/main/export.csv").text
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert any(r["text"] == "导出测试 export?" and r["votes"] == "0" for r in rows)

    admin = Person(server)
    admin.login(ADMIN_KEY)
    everything = admin.http.get("/api/export.json").json()["questions"]
    assert {r["room"] for r in everything} >= {"main"}
    assert admin.http.get("/api/export.xml").status_code == 404
    assert asker.http.get("/api/rooms/main/export.csv").status_code == 403


def test_admin_overview_and_moderating_across_rooms(server: LiveServer) -> None:
    admin, asker = Person(server), Person(server)
    admin.login(ADMIN_KEY)
    pending = asker.ok("hydrogen-storage", {"type": "ask_question", "text": "Pending in hydrogen"})["question"]
    overview = admin.http.get("/api/admin/overview").json()["rooms"]
    assert len(overview) == 8
    room = next(r for r in overview if r["slug"] == "hydrogen-storage")
    assert room["pending_count"] == 1 and room["pending"][0]["text"] == "Pending in hydrogen"
    admin.ok("hydrogen-storage", {"type": "moderate_question", "question_id": pending["id"], "action": "approve"})
    room = next(r for r in admin.http.get("/api/admin/overview").json()["rooms"] if r["slug"] == "hydrogen-storage")
    assert room["pending_count"] == 0


def test_moving_a_question_between_rooms(server: LiveServer) -> None:
    moderator, asker = Person(server), Person(server)
    moderator.login(MODERATOR_KEY)
    question = asker.ok("main", {"type": "ask_question", "text": "Belongs in the hydrogen forum"})["question"]
    moved = moderator.ok(
        "main", {"type": "move_question", "question_id": question["id"], "to_room": "hydrogen-storage"}
    )
    new_id = moved["moved_to"]["question_id"]
    assert moved["moved_to"]["room"] == "hydrogen-storage" and new_id
    source = moderator.http.get("/api/rooms/main?as=moderator").json()["live"]["questions"]
    assert [(q["status"], q["moved_to"]) for q in source] == [("moved", "hydrogen-storage")]
    target = moderator.http.get("/api/rooms/hydrogen-storage?as=moderator").json()["live"]["questions"]
    assert [(q["id"], q["text"], q["author_id"]) for q in target] == [
        (new_id, "Belongs in the hydrogen forum", question and target[0]["author_id"])
    ]
    missing = moderator.command("main", {"type": "move_question", "question_id": question["id"], "to_room": "nowhere"})
    assert missing.status_code == 404


def test_poll_results_export_is_exact(server: LiveServer) -> None:
    moderator = Person(server)
    moderator.login(MODERATOR_KEY)
    poll_id = moderator.ok(
        "main", {"type": "create_poll", "kind": "single_choice", "question": "Which? 哪个？", "options": ["A", "B"]}
    )["poll_id"]
    moderator.ok("main", {"type": "change_poll", "poll_id": poll_id, "action": "open"})
    for choice in ("A", "B", "B"):
        Person(server).ok("main", {"type": "vote_poll", "poll_id": poll_id, "choices": [choice]})
    moderator.ok("main", {"type": "change_poll", "poll_id": poll_id, "action": "close"})
    polls = moderator.http.get("/api/rooms/main/polls/export.json").json()["polls"]
    exported = next(p for p in polls if p["poll_id"] == poll_id)
    assert exported["tally"] == {"A": 1, "B": 2} and exported["ballots"] == 3 and exported["status"] == "closed"
    rows = list(
        csv.DictReader(io.StringIO(moderator.http.get("/api/rooms/main/polls/export.csv").text.lstrip("\ufeff")))
    )
    assert [(r["option"], r["count"]) for r in rows if r["poll_id"] == poll_id] == [("A", "1"), ("B", "2")]
    one = moderator.http.get(f"/api/rooms/main/polls/{poll_id}/export.json")
    assert [p["poll_id"] for p in one.json()["polls"]] == [poll_id] and poll_id in one.headers["content-disposition"]
    assert moderator.http.get("/api/rooms/main/polls/nope/export.csv").status_code == 404
    admin = Person(server)
    admin.login(ADMIN_KEY)
    every = admin.http.get("/api/polls/export.json").json()["polls"]
    assert {p["room"] for p in every} >= {"main", "hydrogen-storage"}  # planned polls included
    assert Person(server).http.get("/api/polls/export.json").status_code == 403


def test_a_moved_question_arrives_as_it_left(server: LiveServer) -> None:
    moderator, asker, voter = Person(server), Person(server), Person(server)
    moderator.login(MODERATOR_KEY)
    question = asker.ok("main", {"type": "ask_question", "text": "Already public, with a vote"})["question"]
    moderator.ok("main", {"type": "moderate_question", "question_id": question["id"], "action": "approve"})
    voter.ok("main", {"type": "upvote", "question_id": question["id"]})
    moved = moderator.ok("main", {"type": "move_question", "question_id": question["id"], "to_room": "nev-investment"})
    public = voter.http.get("/api/rooms/nev-investment").json()["live"]
    arrived = next(q for q in public["questions"] if q["id"] == moved["moved_to"]["question_id"])
    assert (arrived["status"], arrived["votes"]) == ("live", 1)
    assert public["mine"]["upvoted"] == [arrived["id"]]  # the voter's vote came along


def test_metrics_need_the_metrics_key_or_the_admin(serve_live: StartLive) -> None:
    """Room names and audience sizes are not for anyone who finds the URL."""
    server = serve_live()
    stranger, moderator, admin = Person(server), Person(server), Person(server)
    moderator.login(MODERATOR_KEY)
    admin.login(ADMIN_KEY)
    refused = stranger.http.get("/metrics")
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
    assert moderator.http.get("/metrics").status_code == 401
    assert stranger.http.get("/metrics", headers={"authorization": "Bearer wrong"}).status_code == 401
    assert stranger.http.get("/metrics", headers={"authorization": f"Bearer {MODERATOR_KEY}"}).status_code == 401
    scraped = stranger.http.get("/metrics", headers={"authorization": f"Bearer {METRICS_KEY}"})
    assert scraped.status_code == 200 and "live_connections" in scraped.text
    assert admin.http.get("/metrics").status_code == 200
    # the metrics key opens no room
    scraper = Person(server)
    scraper.login(METRICS_KEY)
    assert scraper.http.get("/api/admin/overview").status_code == 403
    assert scraper.command("main", {"type": "set_moderation", "mode": "post"}).status_code == 403
