"""The mechanisms the live stream's capacity relies on, tested as functions, not timings."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from live.domain.commands import parse_command
from live.domain.roles import Actor, Audience, Role
from live.domain.room import ModerationMode, RoomSettings, RoomState
from live.engines.engine import Engine
from live.engines.sqlite import SqliteStorage
from live.hub import RESYNC, Connection, Hub

from .livetools import until

MODERATOR = Actor("mod", None, frozenset({(Role.MODERATOR, "main")}))


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    rooms = {"main": RoomState("main", RoomSettings(moderation=ModerationMode.POST))}
    engine = Engine(SqliteStorage(tmp_path / "db"), rooms)
    await engine.start()
    hub = Hub(engine)  # no flush task: tests flush by hand
    yield hub
    await hub.close()
    await engine.close()


class Recorder:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed_with: int | None = None

    async def send(self, text: str) -> None:
        self.sent.append(text)

    async def close(self, code: int) -> None:
        self.closed_with = code


def connect(hub: Hub, audience: Audience = Audience.PUBLIC, limit: int | None = None) -> tuple[Connection, Recorder]:
    recorder = Recorder()
    connection = Connection("main", audience, audience.value, recorder.send, recorder.close, limit)
    hub.attach(connection, participant_id=None, resume=None)
    connection.outbox.clear()  # drop the snapshot: these tests look at what follows
    return connection, recorder


async def run(hub: Hub, actor: Actor, command: dict[str, object]) -> str | None:
    result = await hub.engine.execute("main", parse_command(command), actor, now=1.0)
    return result.created_id


async def test_conflation_keeps_the_newest_value_and_exact_counts(hub: Hub) -> None:
    connection, _ = connect(hub)
    question_id = await run(hub, MODERATOR, {"type": "ask_question", "text": "Popular?"})
    connection.outbox.clear()
    for n in range(1000):
        await run(hub, Actor(f"voter-{n}"), {"type": "upvote", "question_id": question_id})
    for n in range(0, 1000, 10):  # some change their mind
        await run(hub, Actor(f"voter-{n}"), {"type": "upvote", "question_id": question_id, "voted": False})
    assert list(connection.outbox) == []  # 1100 votes, nothing sent yet
    hub.flush_counters()
    assert len(connection.outbox) == 1
    counters = json.loads(connection.outbox[0])
    assert counters["type"] == "counters"
    assert counters["votes"] == {question_id: 900}
    assert counters["offset"] == hub.engine.position("main").offset
    hub.flush_counters()
    assert len(connection.outbox) == 1  # nothing new, nothing sent


async def test_poll_tallies_are_conflated_and_exact_at_close(hub: Hub) -> None:
    connection, _ = connect(hub)
    poll_id = await run(
        hub, MODERATOR, {"type": "create_poll", "kind": "single_choice", "question": "Pick", "options": ["A", "B"]}
    )
    await run(hub, MODERATOR, {"type": "change_poll", "poll_id": poll_id, "action": "open"})
    connection.outbox.clear()
    for n in range(300):
        await run(
            hub, Actor(f"voter-{n}"), {"type": "vote_poll", "poll_id": poll_id, "choices": ["A" if n % 3 else "B"]}
        )
    hub.flush_counters()
    await run(hub, MODERATOR, {"type": "change_poll", "poll_id": poll_id, "action": "close"})
    messages = [json.loads(m) for m in connection.outbox]
    assert [m["type"] for m in messages] == ["counters", "poll"]
    assert messages[0]["polls"][poll_id] == {"ballots": 300, "tally": {"A": 200, "B": 100}}
    assert messages[1]["poll"]["tally"] == {"A": 200, "B": 100} and messages[1]["poll"]["status"] == "closed"


async def test_an_event_is_serialised_once_per_audience(hub: Hub) -> None:
    viewers = [connect(hub) for _ in range(200)]
    moderators = [connect(hub, Audience.MODERATOR) for _ in range(5)]
    before = hub.serialisations
    await run(hub, MODERATOR, {"type": "ask_question", "text": "Once"})
    assert hub.serialisations - before == 2  # public and moderator, whatever the number of clients
    texts = {connection.outbox[0] for connection, _ in viewers}
    assert len(texts) == 1
    assert all(connection.outbox[0] is viewers[0][0].outbox[0] for connection, _ in viewers)  # the very same object
    assert len({connection.outbox[0] for connection, _ in moderators}) == 1


async def test_a_slow_client_is_bounded_and_told_to_resync(hub: Hub) -> None:
    slow, slow_socket = connect(hub, limit=10)
    fast, fast_socket = connect(hub)
    fast_writer = asyncio.create_task(fast.run_writer())
    for n in range(25):
        await run(hub, MODERATOR, {"type": "ask_question", "text": f"question {n}"})
    assert len(slow.outbox) == 1 and slow.outbox[0] == RESYNC  # bounded: the backlog was dropped
    assert slow.lagging
    # the others did not wait
    await until(lambda: len(fast_socket.sent) == 25, timeout=5, what="the fast client's 25 messages")
    await slow.run_writer()
    assert slow_socket.sent == [RESYNC] and slow_socket.closed_with == 4008
    fast.stop()
    await fast_writer


async def test_a_client_that_never_accepts_a_message_is_dropped(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    from live import outbox

    monkeypatch.setattr(outbox, "SEND_TIMEOUT", 0.05)
    never = asyncio.Event()
    closed: list[int] = []

    async def stuck_send(text: str) -> None:
        await never.wait()

    async def close(code: int) -> None:
        closed.append(code)

    connection = Connection("main", Audience.PUBLIC, "viewer", stuck_send, close)
    hub.attach(connection, None, None)
    await asyncio.wait_for(connection.run_writer(), 2)
    assert connection.closed and closed == [4008]


async def test_a_resume_longer_than_the_outbox_gets_a_snapshot_instead(hub: Hub) -> None:
    position = hub.engine.position("main")
    for n in range(12):
        await run(hub, MODERATOR, {"type": "ask_question", "text": f"question {n}"})
    recorder = Recorder()
    connection = Connection("main", Audience.PUBLIC, "viewer", recorder.send, recorder.close, outbox_limit=10)
    hub.attach(connection, None, position)
    kinds = [json.loads(text)["type"] for text in connection.outbox]
    assert kinds == ["reload", "snapshot"]


async def test_after_vote_tallies_reach_only_connections_that_voted(hub: Hub) -> None:
    poll_id = await run(
        hub,
        MODERATOR,
        {
            "type": "create_poll",
            "kind": "single_choice",
            "question": "Pick",
            "options": ["A", "B"],
            "visibility": "after_vote",
        },
    )
    await run(hub, MODERATOR, {"type": "change_poll", "poll_id": poll_id, "action": "open"})
    voter, _ = connect(hub)
    other, _ = connect(hub)
    voter.participant_id, other.participant_id = "voter", "other"
    await run(hub, Actor("voter"), {"type": "vote_poll", "poll_id": poll_id, "choices": ["B"]})
    await run(hub, Actor("someone"), {"type": "vote_poll", "poll_id": poll_id, "choices": ["A"]})
    before = hub.serialisations
    hub.flush_counters()
    assert hub.serialisations - before == 2  # one text for voters, one for everyone else
    seen_by_voter = json.loads(voter.outbox[-1])["polls"][poll_id]
    seen_by_other = json.loads(other.outbox[-1])["polls"][poll_id]
    assert seen_by_voter == {"ballots": 2, "tally": {"A": 1, "B": 1}}
    assert seen_by_other == {"ballots": 2, "tally": None}


async def test_only_the_asker_hears_that_their_pending_question_was_dismissed(hub: Hub) -> None:
    await run(hub, MODERATOR, {"type": "set_moderation", "mode": "pre"})
    stranger, _ = connect(hub)
    recorder = Recorder()
    asker = Connection("main", Audience.PUBLIC, "viewer", recorder.send, recorder.close)
    hub.attach(asker, participant_id="ann", resume=None)
    asker.outbox.clear()
    question_id = await run(hub, Actor("ann", "Ann"), {"type": "ask_question", "text": "Held back?"})
    await run(hub, MODERATOR, {"type": "moderate_question", "question_id": question_id, "action": "dismiss"})
    (notice,) = [json.loads(text) for text in asker.outbox]
    assert notice["type"] == "my_question" and notice["question"]["status"] == "dismissed"
    assert list(stranger.outbox) == []
    hub.detach(asker)
    assert "ann" not in hub.rooms["main"].by_participant


async def test_voters_see_only_the_after_vote_polls_they_voted_in_even_with_moderators_watching(hub: Hub) -> None:
    polls = []
    for question in ("First?", "Second?"):
        poll_id = await run(
            hub,
            MODERATOR,
            {
                "type": "create_poll",
                "kind": "single_choice",
                "question": question,
                "options": ["A", "B"],
                "visibility": "after_vote",
            },
        )
        polls.append(poll_id)
    alice, _ = connect(hub)
    alice.participant_id = "alice"
    moderator, _ = connect(hub, Audience.MODERATOR)
    await run(hub, MODERATOR, {"type": "change_poll", "poll_id": polls[0], "action": "open"})
    await run(hub, Actor("alice"), {"type": "vote_poll", "poll_id": polls[0], "choices": ["A"]})
    await run(hub, MODERATOR, {"type": "change_poll", "poll_id": polls[1], "action": "open"})  # closes the first
    await run(hub, Actor("bob"), {"type": "vote_poll", "poll_id": polls[1], "choices": ["B"]})
    hub.flush_counters()
    seen = json.loads(alice.outbox[-1])["polls"]
    assert seen[polls[0]]["tally"] == {"A": 1, "B": 0}  # she voted here
    assert seen[polls[1]]["tally"] is None  # not here: no leak from the other poll
    assert json.loads(moderator.outbox[-1])["polls"][polls[1]]["tally"] == {"A": 0, "B": 1}


async def test_an_asker_who_resumes_hears_what_happened_to_their_question(hub: Hub) -> None:
    await run(hub, MODERATOR, {"type": "set_moderation", "mode": "pre"})
    question_id = await run(hub, Actor("ann", "Ann"), {"type": "ask_question", "text": "Held while I was away?"})
    position = hub.engine.position("main")
    await run(hub, MODERATOR, {"type": "moderate_question", "question_id": question_id, "action": "dismiss"})
    recorder = Recorder()
    asker = Connection("main", Audience.PUBLIC, "viewer", recorder.send, recorder.close)
    hub.attach(asker, participant_id="ann", resume=position)
    kinds = [json.loads(text)["type"] for text in asker.outbox]
    assert kinds == ["my_question", "counters"]
    stranger = Connection("main", Audience.PUBLIC, "viewer", recorder.send, recorder.close)
    hub.attach(stranger, participant_id="bob", resume=position)
    assert [json.loads(text)["type"] for text in stranger.outbox] == ["counters"]


async def test_joiners_during_a_storm_share_a_recent_room_view_and_miss_nothing(hub: Hub) -> None:
    question_id = await run(hub, MODERATOR, {"type": "ask_question", "text": "Busy room"})
    first, _ = connect(hub)  # builds and caches the room view
    before = hub.serialisations
    for n in range(30):
        await run(hub, Actor(f"voter-{n}"), {"type": "upvote", "question_id": question_id})
    await run(hub, MODERATOR, {"type": "ask_question", "text": "Asked meanwhile"})
    recorder = Recorder()
    late = Connection("main", Audience.PUBLIC, "viewer", recorder.send, recorder.close)
    hub.attach(late, participant_id="late", resume=None)
    messages = [json.loads(text) for text in late.outbox]
    assert hub.serialisations == before + 1  # only the new question's event; the room view was reused
    assert [m["type"] for m in messages] == ["snapshot", "question", "counters"]
    assert messages[1]["question"]["text"] == "Asked meanwhile"
    assert messages[2]["votes"][question_id] == 30 and messages[2]["offset"] == hub.engine.position("main").offset
    del first


async def test_the_deepest_outbox_is_measured_when_metrics_are_read(hub: Hub) -> None:
    from prometheus_client import REGISTRY

    hub.start()
    connection, _ = connect(hub)
    for n in range(7):
        connection.push(f"queued {n}")  # no writer task here: they stay queued
    assert REGISTRY.get_sample_value("live_outbox_depth_max") == 7  # read now, not on the last timer
    connection.outbox.clear()
    assert REGISTRY.get_sample_value("live_outbox_depth_max") == 0
