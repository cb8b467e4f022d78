"""Ranking polls and quiz series through a real server: the JSON API, the stream, the export."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .conftest import MODERATOR_KEY, LiveServer
from .livetools import Person

StartLive = Callable[..., LiveServer]


def change(moderator: Person, poll_id: str, action: str) -> None:
    moderator.ok("main", {"type": "change_poll", "poll_id": poll_id, "action": action})


def live_view(person: Person) -> dict[str, Any]:
    view: dict[str, Any] = person.http.get("/api/rooms/main").json()["live"]
    return view


async def test_a_ranking_poll_counts_borda_points_refuses_a_partial_order_and_exports(serve_live: StartLive) -> None:
    server = serve_live()
    moderator, ann, bob = Person(server), Person(server), Person(server)
    moderator.login(MODERATOR_KEY)
    created = moderator.ok(
        "main",
        {"type": "create_poll", "kind": "ranking", "question": "Order these", "options": ["太阳能", "Wind", "Hydro"]},
    )
    poll_id = created["poll_id"]
    change(moderator, poll_id, "open")
    ann.ok("main", {"type": "vote_poll", "poll_id": poll_id, "choices": ["Wind", "太阳能", "Hydro"]})
    refused = bob.command("main", {"type": "vote_poll", "poll_id": poll_id, "choices": ["Wind", "Wind", "Hydro"]})
    assert refused.status_code == 400 and refused.json()["error"]["reason"] == "put every option in order, each once"
    reply = bob.ok("main", {"type": "vote_poll", "poll_id": poll_id, "choices": ["Hydro", "Wind", "太阳能"]})
    assert reply["tally"] == {"太阳能": 1, "Wind": 3, "Hydro": 2}  # a live poll: the voter sees it
    bob.ok("main", {"type": "vote_poll", "poll_id": poll_id, "choices": ["Wind", "Hydro", "太阳能"]})  # replaces
    (poll,) = [p for p in live_view(ann)["polls"] if p["id"] == poll_id]
    assert poll["kind"] == "ranking" and poll["ballots"] == 2 and poll["tally"] == {"太阳能": 1, "Wind": 4, "Hydro": 1}
    (exported,) = moderator.http.get(f"/api/rooms/main/polls/{poll_id}/export.json").json()["polls"]
    assert exported["ranking"] == [
        {"option": "Wind", "points": 4, "place": 1},
        {"option": "太阳能", "points": 1, "place": 2},
        {"option": "Hydro", "points": 1, "place": 2},
    ]


async def test_a_quiz_series_ranks_players_by_name_and_tells_each_their_own_place(serve_live: StartLive) -> None:
    server = serve_live()
    moderator, lin, shy = Person(server), Person(server), Person(server)
    moderator.login(MODERATOR_KEY)
    stream = await lin.connect("main")
    await stream.receive_until("snapshot")
    lin.http.post("/api/me", json={"display_name": "Lin 林"})  # saved after the stream opened: it follows
    polls = []
    for correct in ("A", "B"):
        created = moderator.ok(
            "main",
            {"type": "create_poll", "kind": "quiz", "question": "?", "options": ["A", "B"], "correct": [correct]},
        )
        polls.append(created["poll_id"])
    change(moderator, polls[0], "open")
    command = {"type": "vote_poll", "poll_id": polls[0], "choices": ["A"]}
    await stream.send({"type": "command", "ref": "q1", "command": command})
    await stream.receive_until("ack")
    shy.ok("main", {"type": "vote_poll", "poll_id": polls[0], "choices": ["B"]})
    change(moderator, polls[0], "close")
    change(moderator, polls[0], "reveal")
    seen = await stream.receive_until("my_quiz_rank")
    revealed = [m for m in seen if m["type"] == "poll" and m["action"] == "revealed"][-1]["poll"]
    assert [(s["name"], s["place"]) for s in revealed["standings"]] == [("Lin 林", 1), (None, 2)]
    assert revealed["standings"][1]["tag"]  # an anonymous player gets a tag that tells them apart
    assert seen[-1]["rank"]["place"] == 1 and seen[-1]["rank"]["players"] == 2

    change(moderator, polls[1], "open")
    shy.ok("main", {"type": "vote_poll", "poll_id": polls[1], "choices": ["B"]})
    lin.ok("main", {"type": "vote_poll", "poll_id": polls[1], "choices": ["A"]})
    change(moderator, polls[1], "reveal")
    seen = await stream.receive_until("my_quiz_rank")
    assert seen[-1]["rank"]["place"] in (1, 2)  # both have one right answer: the faster leads
    mine = live_view(shy)["mine"]["quiz"][""]
    assert mine["players"] == 2 and mine["correct"] == 1 and mine["place"] in (1, 2)
    assert mine["place"] != seen[-1]["rank"]["place"] or mine["points"] == seen[-1]["rank"]["points"]
    await stream.close()
    exported = moderator.http.get(f"/api/rooms/main/polls/{polls[1]}/export.json").json()["polls"][0]
    assert exported["series"] == "" and {s["name"] for s in exported["standings"]} == {"Lin 林", None}


async def test_a_player_who_resumes_after_a_reveal_hears_their_place(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from live.domain.commands import parse_command
    from live.domain.roles import Actor, Audience, Role
    from live.domain.room import RoomState
    from live.engines.engine import Engine
    from live.engines.sqlite import SqliteStorage
    from live.hub import Connection, Hub

    engine = Engine(SqliteStorage(tmp_path / "db"), {"main": RoomState("main")})
    await engine.start()
    hub = Hub(engine)
    moderator = Actor("mod", None, frozenset({(Role.MODERATOR, "main")}))

    async def run(actor: Actor, command: dict[str, Any], now: float) -> str | None:
        return (await engine.execute("main", parse_command(command), actor, now=now)).created_id

    def attach(participant: str, resume: Any = None) -> Connection:
        async def ignore(_: Any) -> None:
            return None

        connection = Connection("main", Audience.PUBLIC, "viewer", ignore, ignore)
        hub.attach(connection, participant_id=participant, resume=resume)
        return connection

    try:
        poll_id = await run(moderator, {"type": "create_poll", "kind": "quiz", "question": "?",
                                        "options": ["A", "B"], "correct": ["A"]}, 1.0)  # fmt: skip
        await run(moderator, {"type": "change_poll", "poll_id": poll_id, "action": "open"}, 10.0)
        await run(Actor("p1", "P1"), {"type": "vote_poll", "poll_id": poll_id, "choices": ["A"]}, 11.0)
        await run(Actor("p2", None), {"type": "vote_poll", "poll_id": poll_id, "choices": ["B"]}, 12.0)
        live = attach("p2")
        live.outbox.clear()
        position = engine.position("main")
        await run(moderator, {"type": "change_poll", "poll_id": poll_id, "action": "reveal"}, 20.0)
        heard = [json.loads(text) for text in live.outbox]
        assert [m["rank"]["place"] for m in heard if m["type"] == "my_quiz_rank"] == [2]
        resumed = attach("p1", resume=position)  # was away during the reveal
        heard = [json.loads(text) for text in resumed.outbox]
        (rank,) = [m["rank"] for m in heard if m["type"] == "my_quiz_rank"]
        assert rank["place"] == 1 and rank["name"] == "P1" and rank["players"] == 2
    finally:
        await hub.close()
        await engine.close()
